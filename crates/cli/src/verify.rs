//! `opensesa verify --url URL`: post-deploy validation of the critical flows against a live
//! server, each step timed and reported, every failure mapped to its likely cause in the
//! runbook's terms (host / CSRF / cookie settings for login, collectstatic or the proxy path
//! for static files, worker / queue / broker for asynchronous outcomes).

use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Options {
    pub url: url::Url,
    pub email: String,
    pub password: String,
    pub totp_secret: Option<String>,
    pub project: Option<String>,
    pub job_timeout: Duration,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub status: Status,
    pub ms: u128,
    pub detail: String,
    /// The likely cause and the fix, for a failure.
    pub diagnosis: Option<String>,
}

struct Run {
    client: reqwest::Client,
    base: url::Url,
    origin: String,
    steps: Vec<Step>,
}

impl Run {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    fn record(
        &mut self,
        name: &'static str,
        started: Instant,
        result: Result<String, (String, String)>,
    ) -> bool {
        let ms = started.elapsed().as_millis();
        let ok = result.is_ok();
        self.steps.push(match result {
            Ok(detail) => Step {
                name,
                status: Status::Pass,
                ms,
                detail,
                diagnosis: None,
            },
            Err((detail, diagnosis)) => Step {
                name,
                status: Status::Fail,
                ms,
                detail,
                diagnosis: Some(diagnosis),
            },
        });
        ok
    }

    fn skip(&mut self, name: &'static str, why: &str) {
        self.steps.push(Step {
            name,
            status: Status::Skip,
            ms: 0,
            detail: why.to_owned(),
            diagnosis: None,
        });
    }
}

type StepResult = Result<String, (String, String)>;

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn between(hay: &str, start: &str, end: &str) -> Option<String> {
    let i = hay.find(start)? + start.len();
    let j = hay[i..].find(end)? + i;
    Some(hay[i..j].to_owned())
}

const COMPOSE: &str = "docker compose -f \"$DEPLOY_COMPOSE_FILE\"";

pub async fn run(o: &Options) -> Vec<Step> {
    let client = match reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return vec![Step {
                name: "client",
                status: Status::Fail,
                ms: 0,
                detail: e.to_string(),
                diagnosis: Some("the HTTP client could not start".into()),
            }]
        }
    };
    let mut r = Run {
        client,
        origin: o.url.origin().ascii_serialization(),
        base: o.url.clone(),
        steps: Vec::new(),
    };
    let host = o.url.host_str().unwrap_or_default().to_owned();

    // 1. Liveness and readiness.
    let t = Instant::now();
    let res = r.client.get(r.url("/healthz")).send().await;
    let live = match res {
        Ok(x) if x.status().is_success() => Ok(format!("{} answered", r.url("/healthz"))),
        Ok(x) => Err((format!("/healthz answered {}", x.status()), format!("something other than OpenSESA answers at {}: check the proxy's upstream and `{COMPOSE} logs app`", o.url))),
        Err(e) => Err((format!("{e}"), format!("nothing answers at {}: is the stack up (`{COMPOSE} ps`)? check DNS, TLS and the proxy", o.url))),
    };
    if !r.record("healthz", t, live) {
        return r.steps;
    }
    let t = Instant::now();
    let ready: StepResult = match r.client.get(r.url("/readyz")).send().await {
        Ok(x) => {
            let ok = x.status().is_success();
            let body: serde_json::Value = x.json().await.unwrap_or_default();
            if ok {
                Ok("database, migrations and Redis are ready".into())
            } else {
                let c = &body["checks"];
                let mut causes = Vec::new();
                if c["database"]["ok"] == false {
                    causes.push(format!(
                        "the database is unreachable ({}): check DATABASE_URL and the db service",
                        c["database"]["error"]
                    ));
                }
                if c["migrations"]["ok"] == false {
                    causes.push(format!("migrations are not current (pending {}): run `{COMPOSE} run --rm app opensesa migrate`", c["migrations"]["pending"]));
                }
                if c["redis"]["ok"] == false {
                    causes.push(format!(
                        "Redis is unreachable ({}): check REDIS_URL and the redis service",
                        c["redis"]["error"]
                    ));
                }
                Err((body.to_string(), causes.join("; ")))
            }
        }
        Err(e) => Err((
            e.to_string(),
            "the app stopped answering between two requests: check its logs".into(),
        )),
    };
    r.record("readyz", t, ready);

    // 2. Login (with CSRF and, when enabled, MFA).
    let t = Instant::now();
    let page = r.client.get(r.url("/login")).send().await;
    let page_ok = match page {
        Ok(x) if header(&x, "x-opensesa-reason") == "host-not-allowed" => Err((
            format!("the server refuses the host {host}"),
            format!("host mismatch: {host} is not in OPENSESA_ALLOWED_HOSTS; add it, e.g. OPENSESA_ALLOWED_HOSTS=…,{host} (and OPENSESA_PUBLIC_URL={})", r.origin),
        )),
        Ok(x) if x.status().is_success() => Ok("the login page loads".into()),
        Ok(x) => Err((format!("/login answered {}", x.status()), format!("check `{COMPOSE} logs app`"))),
        Err(e) => Err((e.to_string(), "the login page did not load".into())),
    };
    if !r.record("login page", t, page_ok) {
        skip_rest(&mut r, "login failed");
        return r.steps;
    }
    let t = Instant::now();
    let login = login(&r, o).await;
    if !r.record("login", t, login) {
        skip_rest(&mut r, "login failed");
        return r.steps;
    }

    // 3. Pages of a project.
    let t = Instant::now();
    let project = match &o.project {
        Some(p) => Some(p.to_uppercase()),
        None => match r.client.get(r.url("/projects")).send().await {
            Ok(x) => between(
                &x.text().await.unwrap_or_default(),
                "<td><a href=\"/p/",
                "/\"",
            ),
            Err(_) => None,
        },
    };
    let Some(project) = project else {
        r.record("project dashboard", t, Err(("the account sees no project".into(), "make the verification account a member (viewer is enough) of a project, or pass --project".into())));
        skip_rest(&mut r, "no project");
        return r.steps;
    };
    let dash = r.client.get(r.url(&format!("/p/{project}/"))).send().await;
    let (dash_result, html, headers) = match dash {
        Ok(x) if x.status().is_success() => {
            let h = x.headers().clone();
            (
                Ok(format!("/p/{project}/ loads")),
                x.text().await.unwrap_or_default(),
                Some(h),
            )
        }
        Ok(x) => (
            Err((
                format!("/p/{project}/ answered {}", x.status()),
                "the account must be a member of the project (or a site admin)".into(),
            )),
            String::new(),
            None,
        ),
        Err(e) => (
            Err((e.to_string(), "the dashboard did not load".into())),
            String::new(),
            None,
        ),
    };
    r.record("project dashboard", t, dash_result);
    // The requirements area: the module list and the coverage page (which reads every
    // requirement and link of the project, so it also proves the analyses run); the V&V
    // dashboard (aggregates over cases, results and defects); the baselines list.
    for (name, path, marker) in [
        ("requirements page", "requirements", "Requirements"),
        ("coverage page", "trace", "overage"),
        ("V&V page", "vv", "Verification and validation"),
        ("baselines page", "baselines", "Baselines"),
        ("operations page", "operations", "Operations readiness"),
    ] {
        let t = Instant::now();
        let url = r.url(&format!("/p/{project}/{path}"));
        let result = match r.client.get(url).send().await {
            Ok(x) if x.status().is_success() => {
                let body = x.text().await.unwrap_or_default();
                if body.contains(marker) {
                    Ok(format!("/p/{project}/{path} loads"))
                } else {
                    Err((
                        format!("/p/{project}/{path} loaded without its content"),
                        "an error page or a proxy page answered; check the application log".into(),
                    ))
                }
            }
            Ok(x) => Err((
                format!("/p/{project}/{path} answered {}", x.status()),
                "check the application log for the error behind this status".into(),
            )),
            Err(e) => Err((e.to_string(), format!("the {name} did not load"))),
        };
        r.record(name, t, result);
    }

    // 4. Static files through whatever serves /static/.
    let t = Instant::now();
    let css = between(&html, "rel=\"stylesheet\" href=\"", "\"");
    let static_result = match css {
        None => Err((
            "the dashboard links no stylesheet".into(),
            "a different app answers, or the page failed".into(),
        )),
        Some(href) => check_static(&r, &href).await,
    };
    r.record("static assets", t, static_result);

    // 5. Security headers.
    let t = Instant::now();
    let sec = match headers {
        None => Err((
            "no dashboard response to inspect".into(),
            "see the dashboard step".into(),
        )),
        Some(h) => {
            let mut missing = Vec::new();
            let get = |n: &str| {
                h.get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            if !get("content-security-policy").contains("frame-ancestors 'none'") {
                missing.push("Content-Security-Policy (frame-ancestors 'none')");
            }
            if get("x-content-type-options") != "nosniff" {
                missing.push("X-Content-Type-Options: nosniff");
            }
            if get("referrer-policy").is_empty() {
                missing.push("Referrer-Policy");
            }
            if o.url.scheme() == "https" && get("strict-transport-security").is_empty() {
                missing.push("Strict-Transport-Security");
            }
            if missing.is_empty() {
                Ok("CSP, nosniff, referrer policy".to_owned()
                    + if o.url.scheme() == "https" {
                        ", HSTS"
                    } else {
                        ""
                    })
            } else {
                Err((format!("missing: {}", missing.join(", ")), "a proxy strips or overrides the app's headers (do not set them in the proxy), or HSTS is off: set OPENSESA_SECURE_COOKIES / an https OPENSESA_PUBLIC_URL".into()))
            }
        }
    };
    r.record("security headers", t, sec);

    // 6. A job through the worker.
    let t = Instant::now();
    let csrf = between(&html, "name=\"csrf_token\" value=\"", "\"").unwrap_or_default();
    let job = ping_round_trip(&r, &csrf, o.job_timeout).await;
    r.record("job round trip", t, job);
    r.steps
}

fn skip_rest(r: &mut Run, why: &str) {
    for name in [
        "project dashboard",
        "static assets",
        "security headers",
        "job round trip",
    ] {
        r.skip(name, why);
    }
}

async fn login(r: &Run, o: &Options) -> StepResult {
    let res = r
        .client
        .post(r.url("/login"))
        .header("Origin", &r.origin)
        .form(&[
            ("email", o.email.as_str()),
            ("password", o.password.as_str()),
        ])
        .send()
        .await
        .map_err(|e| (e.to_string(), "the login request failed".to_owned()))?;
    let status = res.status().as_u16();
    let reason = header(&res, "x-opensesa-reason");
    let cookie = header(&res, "set-cookie");
    let location = header(&res, "location");
    if reason == "csrf-origin" {
        let text = res.text().await.unwrap_or_default();
        let server = between(&text, "<p>", "</p>").unwrap_or_default();
        return Err((
            format!("the server refused the login as cross-site: {server}"),
            format!("CSRF origin mismatch: set OPENSESA_CSRF_TRUSTED_ORIGINS={} and OPENSESA_PUBLIC_URL={} (behind a TLS proxy also OPENSESA_TRUST_PROXY_HEADERS=true)", r.origin, r.origin),
        ));
    }
    match status {
        303 => {}
        401 => return Err(("email or password refused".into(), "check the verification account's credentials (OPENSESA_VERIFY_EMAIL / OPENSESA_VERIFY_PASSWORD)".into())),
        429 => return Err(("the account or address is locked out".into(), "wait 15 minutes, or check for repeated failed logins".into())),
        other => return Err((format!("login answered {other}"), format!("check `{COMPOSE} logs app`"))),
    }
    if cookie.contains("Secure") && r.base.scheme() == "http" {
        return Err((
            format!("the session cookie is Secure but {} is plain http: browsers drop it", r.base),
            "cookie security vs scheme: verify the https URL people use, or set OPENSESA_SECURE_COOKIES=false for a plain-http site".into(),
        ));
    }
    if location.ends_with("/login/mfa") {
        let secret = o.totp_secret.as_deref().ok_or_else(|| {
            (
                "the account has two-factor authentication".to_owned(),
                "pass its TOTP secret: --totp-secret or OPENSESA_VERIFY_TOTP_SECRET".to_owned(),
            )
        })?;
        let raw = data_encoding::BASE32_NOPAD
            .decode(
                secret
                    .trim()
                    .trim_end_matches('=')
                    .to_uppercase()
                    .as_bytes(),
            )
            .map_err(|_| {
                (
                    "the TOTP secret is not base32".to_owned(),
                    "use the key shown at enrolment".to_owned(),
                )
            })?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let code = opensesa_app::crypto::totp_code(&raw, now);
        let res = r
            .client
            .post(r.url("/login/mfa"))
            .header("Origin", &r.origin)
            .form(&[("code", code.as_str())])
            .send()
            .await
            .map_err(|e| (e.to_string(), "the MFA request failed".to_owned()))?;
        if res.status().as_u16() != 303 {
            return Err((format!("the TOTP code was refused ({})", res.status()), "check the secret and the server's clock (codes are valid ±30 s); a code is single-use per 30 s step".into()));
        }
    } else if location.ends_with("/account/mfa") {
        return Err((
            "the account must enrol two-factor authentication first (site policy)".into(),
            "log in once in a browser and enrol, then pass --totp-secret".into(),
        ));
    }
    let after = r
        .client
        .get(r.url("/projects"))
        .send()
        .await
        .map_err(|e| (e.to_string(), "the request after login failed".to_owned()))?;
    if after.status().as_u16() != 200 {
        return Err((
            format!("logged in, but the next page answered {} (the session did not stick)", after.status()),
            "cookie security vs scheme: check OPENSESA_SECURE_COOKIES and OPENSESA_PUBLIC_URL against the URL used".into(),
        ));
    }
    Ok(format!("logged in as {}", o.email))
}

async fn check_static(r: &Run, href: &str) -> StepResult {
    let res = r
        .client
        .get(r.url(href))
        .send()
        .await
        .map_err(|e| (e.to_string(), "the static request failed".to_owned()))?;
    let status = res.status().as_u16();
    let ct = header(&res, "content-type");
    let cache = header(&res, "cache-control");
    if status == 200 && ct.starts_with("text/css") {
        if !cache.contains("immutable") && !cache.contains("max-age=31536000") {
            return Err((format!("{href} is served with Cache-Control {cache:?}"), "hashed assets should be cached for a year: set `expires max` (or immutable) in the proxy's /static/ location".into()));
        }
        return Ok(format!("{href} served as {ct}, cached ({cache})"));
    }
    let collect = format!("`{COMPOSE} run --rm app opensesa collectstatic --noinput`");
    if status == 200 {
        return Err((format!("{href} is served as {ct:?}"), "proxy path mismatch: the proxy's /static/ location must serve OPENSESA_STATIC_ROOT (the files collectstatic writes)".into()));
    }
    let name = href.trim_start_matches("/static/");
    let manifest = r.client.get(r.url("/static/staticfiles.json")).send().await;
    match manifest {
        Ok(m) if m.status().is_success() => {
            let body: serde_json::Value = m.json().await.unwrap_or_default();
            let listed = body["files"].as_object().is_some_and(|f| f.values().any(|v| v["hashed"] == name));
            if listed {
                Err((format!("{href} answered {status}; the manifest lists it"), format!("the file is absent from the static root: run {collect}, and check that the proxy's /static/ points at the same volume")))
            } else {
                Err((format!("{href} answered {status}; the manifest is from another release"), format!("the static files are stale: run {collect} with this release")))
            }
        }
        _ => Err((format!("{href} answered {status}; /static/staticfiles.json is absent"), format!("collectstatic was not applied (or the proxy path is wrong): run {collect}; the proxy must serve OPENSESA_STATIC_ROOT at /static/"))),
    }
}

async fn ping_round_trip(r: &Run, csrf: &str, bound: Duration) -> StepResult {
    let res = r
        .client
        .post(r.url("/api/v1/system/ping-job"))
        .header("Origin", &r.origin)
        .header("X-CSRF-Token", csrf)
        .send()
        .await
        .map_err(|e| (e.to_string(), "the ping request failed".to_owned()))?;
    if res.status().as_u16() != 202 {
        return Err((
            format!("enqueueing the ping job answered {}", res.status()),
            "the API refused the request: see the app's logs".into(),
        ));
    }
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    let url = body["url"].as_str().unwrap_or_default().to_owned();
    let started = Instant::now();
    let mut last = serde_json::Value::Null;
    while started.elapsed() < bound {
        if let Ok(x) = r.client.get(r.url(&url)).send().await {
            last = x.json().await.unwrap_or_default();
            match last["state"].as_str() {
                Some("succeeded") => {
                    return Ok(format!(
                        "ping job finished in {} ms",
                        started.elapsed().as_millis()
                    ))
                }
                Some("dead") => {
                    return Err((
                        format!("the ping job failed: {}", last["last_error"]),
                        "the worker runs jobs but this one failed: see `logs worker`".into(),
                    ))
                }
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Why: ask the runtime status (site admins) for workers, queues and brokers.
    let diagnosis = match r.client.get(r.url("/api/v1/system/status")).send().await {
        Ok(x) if x.status().is_success() => {
            let s: serde_json::Value = x.json().await.unwrap_or_default();
            if s["database"]["ok"] == false {
                "the database (the job broker) is unreachable from the app: check DATABASE_URL and the db service".to_owned()
            } else if s["workers_up"].as_u64() == Some(0) {
                format!("no worker is alive (last beats: {}): start the worker service (`{COMPOSE} up -d worker`) and read `{COMPOSE} logs worker`", s["workers"].as_array().map_or(0, Vec::len))
            } else if s["redis"]["ok"] == false {
                format!("Redis is unreachable ({}): workers fall back to polling, but check REDIS_URL and the redis service", s["redis"]["error"])
            } else {
                format!("the queue is not draining: {} worker(s) up, queues {}; look for long-running or stuck jobs on the status page", s["workers_up"], s["queues"])
            }
        }
        _ => "async outcome missing: the worker is down, the queue is stuck, or the broker (database/Redis) is unreachable; a site admin account lets verify tell which".into(),
    };
    Err((
        format!(
            "the ping job did not finish within {} s (state {})",
            bound.as_secs(),
            last["state"]
        ),
        diagnosis,
    ))
}

pub fn render_text(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        let tag = match s.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        };
        out.push_str(&format!(
            "{tag}  {:<18} {:>6} ms  {}\n",
            s.name, s.ms, s.detail
        ));
        if let Some(d) = &s.diagnosis {
            out.push_str(&format!("      diagnosis: {d}\n"));
        }
    }
    let failed = steps.iter().filter(|s| s.status == Status::Fail).count();
    out.push_str(&format!(
        "{} passed, {failed} failed, {} skipped\n",
        steps.iter().filter(|s| s.status == Status::Pass).count(),
        steps.iter().filter(|s| s.status == Status::Skip).count()
    ));
    out
}
