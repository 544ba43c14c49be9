//! `opensesa`: the one executable. Its subcommands are the product's operational surface.

use anyhow::Context;
use clap::{Parser, Subcommand};
use opensesa::config::{Settings, Vars};
use opensesa::{demo, runtime};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

/// mimalloc instead of glibc's allocator: every SQLite connection runs on its own thread and
/// glibc gives each thread its own arena, whose freed memory other threads do not reuse, so a
/// 10,000-object ReqIF import left the server at twice its peak heap in resident memory
/// (docs/benchmarks.md, "Requirements at scale").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "opensesa",
    version,
    about = "OpenSESA: systems engineering and safety assurance, self-hosted."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application, the JSON API and the health endpoints.
    Serve {
        /// Address to listen on (default: OPENSESA_LISTEN, else 127.0.0.1:8000).
        #[arg(long)]
        bind: Option<String>,
        /// Do not run a job worker inside this process (the embedded mode runs one by default).
        #[arg(long, conflicts_with = "worker")]
        no_worker: bool,
        /// Run a job worker inside this process also with PostgreSQL.
        #[arg(long)]
        worker: bool,
    },
    /// Run background jobs until SIGTERM or Ctrl-C, then finish or release running jobs.
    Worker {
        /// Queues to take jobs from, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        queues: Option<Vec<String>>,
        /// Jobs run at the same time.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Seconds a claimed job stays this worker's without an extension.
        #[arg(long, default_value_t = 60)]
        lease_secs: i64,
        /// Seconds running jobs get to finish after SIGTERM before they are released.
        #[arg(long, default_value_t = 25)]
        grace_secs: u64,
        /// Longest wait (ms) between looks at the queue when no notification comes.
        #[arg(long, default_value_t = 2000)]
        poll_ms: u64,
        /// Do not enqueue the periodic maintenance jobs from this worker.
        #[arg(long)]
        no_periodic: bool,
        /// Milliseconds between heartbeats (also how often expired leases are requeued).
        #[arg(long, default_value_t = 5000)]
        heartbeat_ms: u64,
        /// Touch this file on every heartbeat (for `opensesa healthcheck --worker-file`).
        #[arg(long)]
        heartbeat_file: Option<std::path::PathBuf>,
        /// Ignore wake-ups (NOTIFY, Redis) and only poll; for measuring and diagnosing.
        #[arg(long)]
        poll_only: bool,
    },
    /// Apply pending schema migrations.
    Migrate {
        /// List what would be applied, change nothing.
        #[arg(long)]
        plan: bool,
        /// Do not take the verified backup that otherwise precedes pending migrations.
        #[arg(long)]
        no_backup: bool,
    },
    /// List migrations: applied [X] or pending [ ].
    Showmigrations,
    /// Create a site admin account.
    Createsuperuser {
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Never prompt; fail when a value is missing.
        #[arg(long)]
        no_input: bool,
    },
    /// Create the demo program, projects and users (idempotent), print the logins, then serve.
    Demo {
        /// Only create the data, do not serve.
        #[arg(long)]
        no_serve: bool,
        /// Password for the demo users (created only; existing users keep theirs).
        #[arg(long, default_value = demo::DEMO_PASSWORD)]
        password: String,
        #[arg(long)]
        bind: Option<String>,
        /// Also generate a synthetic project with this many requirements (for benchmarks).
        #[arg(long, value_name = "N")]
        size: Option<usize>,
        /// The code of the generated project (with --size).
        #[arg(long, default_value = "BENCH", requires = "size")]
        project: String,
        /// Trace links per generated requirement, on average (with --size).
        #[arg(long, default_value_t = 1.5, requires = "size")]
        links_per_req: f64,
        /// Seed of the generated text and links (with --size): the same seed, the same project.
        #[arg(long, default_value_t = 2026, requires = "size")]
        seed: u64,
        /// Verification cases to generate on the generated project (with --size).
        #[arg(long, default_value_t = 0, requires = "size")]
        cases: usize,
        /// Verification results to generate, spread over the cases (with --cases).
        #[arg(long, default_value_t = 0, requires = "size")]
        results: usize,
        /// Operations readiness items to generate on the generated project (with --size).
        #[arg(long, default_value_t = 0, requires = "size")]
        ops_items: usize,
        /// Milestones of the generated operations plan (with --ops-items).
        #[arg(long, default_value_t = 0, requires = "size")]
        milestones: usize,
    },
    /// Configuration and environment checks; exit 1 on any error.
    Check {
        /// Also the production checks (security settings, static files, demo accounts).
        #[arg(long)]
        deploy: bool,
        /// Warnings count as errors.
        #[arg(long)]
        strict: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Back up the database (and uploaded files) into one verified-able archive.
    Backup {
        /// Default: <data dir>/backups/opensesa-<time>.tar.gz
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Restore the archive into a scratch database and compare rows and checksums.
        #[arg(long)]
        verify: bool,
    },
    /// Restore a backup into an empty database (or, with --force, replace its content).
    Restore {
        file: std::path::PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Write the static assets (content-hashed) and their manifest to OPENSESA_STATIC_ROOT.
    Collectstatic {
        /// Never prompt (for scripts and the deploy runbook).
        #[arg(long)]
        noinput: bool,
        /// Remove files in the static root that are not part of this release first.
        #[arg(long)]
        clear: bool,
    },
    /// Post-deploy validation of the critical flows against a live server, with diagnoses.
    Verify {
        /// The URL people use, e.g. https://sesa.example.org
        #[arg(long)]
        url: String,
        #[arg(long, env = "OPENSESA_VERIFY_EMAIL")]
        email: String,
        /// Prefer the environment variable: a flag shows in the process list.
        #[arg(long, env = "OPENSESA_VERIFY_PASSWORD", hide_env_values = true)]
        password: String,
        /// Base32 TOTP secret of the account, when it has two-factor authentication.
        #[arg(long, env = "OPENSESA_VERIFY_TOTP_SECRET", hide_env_values = true)]
        totp_secret: Option<String>,
        /// Project code whose pages to check (default: the first the account sees).
        #[arg(long)]
        project: Option<String>,
        /// Seconds the ping job may take through the worker.
        #[arg(long, default_value_t = 30)]
        job_timeout_secs: u64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Exit 0 when the server's /healthz answers (for container health checks).
    Healthcheck {
        /// Default: http://<OPENSESA_LISTEN>/healthz
        #[arg(long)]
        url: Option<String>,
        #[arg(long, default_value_t = 3)]
        timeout_secs: u64,
        /// Check a worker instead: healthy when this heartbeat file is fresh.
        #[arg(long)]
        worker_file: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 30)]
        max_age_secs: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_settings() -> anyhow::Result<Settings> {
    let vars = Vars::from_process().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    Settings::load(&vars).map_err(|e| anyhow::anyhow!("configuration: {e}"))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Healthcheck {
        url,
        timeout_secs,
        worker_file,
        max_age_secs,
    } = &cli.command
    {
        if let Some(f) = worker_file {
            let age = std::fs::metadata(f)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok());
            return Ok(match age {
                Some(a) if a.as_secs() <= *max_age_secs => ExitCode::SUCCESS,
                Some(a) => {
                    eprintln!(
                        "unhealthy: the worker's last heartbeat is {} s old",
                        a.as_secs()
                    );
                    ExitCode::FAILURE
                }
                None => {
                    eprintln!("unhealthy: no heartbeat file at {}", f.display());
                    ExitCode::FAILURE
                }
            });
        }
        return healthcheck(url.clone(), *timeout_secs).await;
    }
    if let Command::Verify {
        url,
        email,
        password,
        totp_secret,
        project,
        job_timeout_secs,
        format,
    } = &cli.command
    {
        let url =
            url::Url::parse(url).map_err(|e| anyhow::anyhow!("--url {url:?} is not a URL: {e}"))?;
        let opts = opensesa::verify::Options {
            url,
            email: email.clone(),
            password: password.clone(),
            totp_secret: totp_secret.clone(),
            project: project.clone(),
            job_timeout: Duration::from_secs(*job_timeout_secs),
        };
        let started = std::time::Instant::now();
        let steps = opensesa::verify::run(&opts).await;
        let failed = steps
            .iter()
            .any(|s| s.status == opensesa::verify::Status::Fail);
        match format {
            Format::Text => {
                print!("{}", opensesa::verify::render_text(&steps));
                println!("verify took {} ms", started.elapsed().as_millis());
            }
            Format::Json => println!(
                "{}",
                serde_json::json!({ "ok": !failed, "ms": started.elapsed().as_millis() as u64, "steps": steps })
            ),
        }
        return Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    let settings = load_settings()?;
    runtime::init_logging(settings.log_format);
    match cli.command {
        Command::Check {
            deploy,
            strict,
            format,
        } => {
            let findings =
                opensesa::checks::run(&settings, opensesa::checks::Options { deploy, strict })
                    .await;
            match format {
                Format::Text => print!("{}", opensesa::checks::render_text(&findings)),
                Format::Json => println!(
                    "{}",
                    serde_json::json!({ "ok": !opensesa::checks::failed(&findings), "findings": findings })
                ),
            }
            if opensesa::checks::failed(&findings) {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Backup { out, verify } => {
            let db = runtime::open_db(&settings).await?;
            let path = out.unwrap_or_else(|| opensesa::backup::default_path(&settings.data_dir));
            let started = std::time::Instant::now();
            let b = opensesa::backup::backup(&db, &settings.data_dir, &path).await?;
            db.close().await;
            let rows: u64 = b.manifest["tables"]
                .as_object()
                .map_or(0, |t| t.values().filter_map(|v| v["rows"].as_u64()).sum());
            println!(
                "backup written to {} ({rows} rows, {} ms)",
                b.path.display(),
                started.elapsed().as_millis()
            );
            if verify {
                opensesa::backup::verify(&b.path).await?;
                println!("verified: restored into a scratch database, every table's rows and checksum match");
            }
        }
        Command::Restore { file, force } => {
            let db = runtime::open_db(&settings).await?;
            let m = opensesa::backup::restore(&db, &settings.data_dir, &file, force).await?;
            db.close().await;
            println!(
                "restored {} (taken {} from {}, schema level {})",
                file.display(),
                m["created_at"],
                m["backend"],
                m["schema"]["latest"]
            );
        }
        Command::Collectstatic { noinput, clear } => {
            let root = &settings.static_root;
            if clear && !noinput {
                let answer = prompt(&format!(
                    "Remove files in {} that are not part of this release? [y/N]",
                    root.display()
                ))?;
                if !matches!(answer.as_str(), "y" | "Y" | "yes") {
                    println!("Nothing done.");
                    return Ok(ExitCode::SUCCESS);
                }
            }
            let c = opensesa::collectstatic::collect(root, clear)?;
            println!(
                "{} static files written, {} unchanged, {} removed, manifest {} in {}",
                c.written,
                c.unchanged,
                c.removed,
                opensesa::collectstatic::MANIFEST,
                root.display()
            );
        }
        Command::Serve {
            bind,
            no_worker,
            worker,
        } => {
            let db = runtime::open_db(&settings).await?;
            runtime::ensure_schema(&settings, &db).await?;
            let in_process = !no_worker && (worker || settings.is_embedded());
            serve(&settings, db, bind, in_process).await?;
        }
        Command::Worker {
            queues,
            concurrency,
            lease_secs,
            grace_secs,
            poll_ms,
            no_periodic,
            heartbeat_ms,
            poll_only,
            heartbeat_file,
        } => {
            let db = runtime::open_db(&settings).await?;
            runtime::ensure_schema(&settings, &db).await?;
            let app = runtime::build_app(&settings, db.clone())?;
            let mut opts = opensesa_worker::WorkerOptions {
                concurrency: concurrency.clamp(1, 256),
                lease: chrono::Duration::seconds(lease_secs.clamp(1, 3600)),
                grace: Duration::from_secs(grace_secs),
                poll: Duration::from_millis(poll_ms.clamp(10, 60_000)),
                periodic: !no_periodic,
                heartbeat_file,
                heartbeat: Duration::from_millis(heartbeat_ms.clamp(100, 60_000)),
                ..Default::default()
            };
            if let Some(q) = queues.filter(|q| !q.is_empty()) {
                opts.queues = q;
            }
            let worker = if poll_only {
                opensesa_worker::Worker::new(
                    app,
                    opensesa_worker::Registry::standard(),
                    opensesa_worker::WorkerOptions {
                        data_dir: settings.data_dir.clone(),
                        ..opts
                    },
                    None,
                )
            } else {
                runtime::build_worker(&settings, app, &db, opts).await?
            };
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let run = tokio::spawn(worker.run(stop_rx));
            shutdown_signal().await;
            let _ = stop_tx.send(true);
            run.await
                .map_err(|e| anyhow::anyhow!("worker task: {e}"))?
                .map_err(|e| anyhow::anyhow!("worker: {e}"))?;
            db.close().await;
        }
        Command::Migrate { plan, no_backup } => migrate(&settings, plan, no_backup).await?,
        Command::Showmigrations => showmigrations(&settings).await?,
        Command::Createsuperuser {
            email,
            display_name,
            password_stdin,
            no_input,
        } => {
            let db = runtime::open_db(&settings).await?;
            runtime::ensure_schema(&settings, &db).await?;
            createsuperuser(&settings, db, email, display_name, password_stdin, no_input).await?;
        }
        Command::Demo {
            no_serve,
            password,
            bind,
            size,
            project,
            links_per_req,
            seed,
            cases,
            results,
            ops_items,
            milestones,
        } => {
            let db = runtime::open_db(&settings).await?;
            runtime::ensure_schema(&settings, &db).await?;
            let app = runtime::build_app(&settings, db.clone())?;
            demo::seed(&app, &password)
                .await
                .map_err(|e| anyhow::anyhow!("demo data: {e}"))?;
            if let Some(n) = size {
                let opts = opensesa::generate::Options {
                    project,
                    requirements: n,
                    links_per_req,
                    seed,
                    ..Default::default()
                };
                let report = demo::generate(&app, &opts, |line| println!("{line}"))
                    .await
                    .map_err(|e| anyhow::anyhow!("generated project: {e}"))?;
                println!("{report}");
                if cases > 0 {
                    let vv =
                        demo::generate_vv(&app, &report.project, cases, results, seed, |line| {
                            println!("{line}")
                        })
                        .await
                        .map_err(|e| anyhow::anyhow!("generated V&V data: {e}"))?;
                    println!("{vv}");
                }
                if ops_items > 0 {
                    let ops =
                        demo::generate_ops(&app, &report.project, ops_items, milestones, seed)
                            .await
                            .map_err(|e| anyhow::anyhow!("generated operations plan: {e}"))?;
                    println!("{ops}");
                }
            }
            let addr = bind.clone().unwrap_or_else(|| settings.listen.clone());
            println!(
                "Demo data is ready. Log in at http://{} with:",
                addr.replace("0.0.0.0", "localhost")
            );
            for l in demo::LOGINS {
                println!("  {:<24} ({})", l.email, l.role);
            }
            println!("  password: {password}   (demo accounts: never use them in production)");
            if !no_serve {
                serve(&settings, db, bind, true).await?;
            }
        }
        Command::Healthcheck { .. } | Command::Verify { .. } => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

async fn serve(
    settings: &Settings,
    db: opensesa_store::Db,
    bind: Option<String>,
    in_process_worker: bool,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let state = runtime::build_state(settings, db.clone())?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = if in_process_worker {
        let opts = opensesa_worker::WorkerOptions::default();
        let w = runtime::build_worker(settings, state.app.clone(), &db, opts).await?;
        Some(tokio::spawn(w.run(stop_rx)))
    } else {
        None
    };
    let addr = bind.unwrap_or_else(|| settings.listen.clone());
    let server = opensesa_web::Server::bind(&addr, state)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(
        addr = %server.local_addr()?,
        backend = if settings.is_embedded() { "sqlite" } else { "postgresql" },
        redis = settings.redis_url.is_some(),
        worker = in_process_worker,
        worker = in_process_worker,
        startup_ms = started.elapsed().as_millis() as u64,
        version = env!("CARGO_PKG_VERSION"),
        "OpenSESA is serving"
    );
    server.run(shutdown_signal()).await?;
    let _ = stop_tx.send(true);
    if let Some(w) = worker {
        let _ = w.await;
    }
    db.close().await;
    Ok(())
}

async fn migrate(settings: &Settings, plan: bool, no_backup: bool) -> anyhow::Result<()> {
    let db = runtime::open_db(settings).await?;
    let status = opensesa_store::migrate::status(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if plan {
        if !status.unknown.is_empty() {
            println!("The database has migrations this binary does not know: {:?} (it is newer). Nothing can be applied.", status.unknown);
            return Ok(());
        }
        if status.pending.is_empty() {
            println!("No migrations to apply.");
        }
        for m in opensesa_store::migrate::MIGRATIONS
            .iter()
            .filter(|m| status.pending.contains(&m.version))
        {
            println!("would apply {}", m.file_name());
        }
        return Ok(());
    }
    if !status.pending.is_empty() && !status.applied.is_empty() {
        if no_backup {
            println!("Skipping the pre-migration backup (--no-backup).");
        } else {
            let path = opensesa::backup::default_path(&settings.data_dir);
            println!(
                "Taking a verified backup before migrating: {}",
                path.display()
            );
            opensesa::backup::backup(&db, &settings.data_dir, &path).await?;
            opensesa::backup::verify(&path)
                .await
                .context("the pre-migration backup did not verify; nothing was migrated")?;
        }
    }
    let applied = opensesa_store::migrate::run(&db).await?;
    if applied.is_empty() {
        println!(
            "No migrations to apply; the schema is at version {}.",
            opensesa_store::migrate::latest_version()
        );
    }
    for v in applied {
        if let Some(m) = opensesa_store::migrate::MIGRATIONS
            .iter()
            .find(|m| m.version == v)
        {
            println!("applied {}", m.file_name());
        }
    }
    db.close().await;
    Ok(())
}

async fn showmigrations(settings: &Settings) -> anyhow::Result<()> {
    let db = runtime::open_db(settings).await?;
    let applied = opensesa_store::migrate::applied(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for m in opensesa_store::migrate::MIGRATIONS {
        match applied.iter().find(|a| a.version == m.version) {
            Some(a) => println!("[X] {} (applied {})", m.file_name(), a.applied_at),
            None => println!("[ ] {}", m.file_name()),
        }
    }
    for a in applied.iter().filter(|a| {
        !opensesa_store::migrate::MIGRATIONS
            .iter()
            .any(|m| m.version == a.version)
    }) {
        println!(
            "[?] {:04}_{} (applied {}; unknown to this binary: the database is newer)",
            a.version, a.name, a.applied_at
        );
    }
    db.close().await;
    Ok(())
}

fn prompt(label: &str) -> anyhow::Result<String> {
    print!("{label}: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

async fn createsuperuser(
    settings: &Settings,
    db: opensesa_store::Db,
    email: Option<String>,
    display_name: Option<String>,
    password_stdin: bool,
    no_input: bool,
) -> anyhow::Result<()> {
    let app = runtime::build_app(settings, db)?;
    let email = match email {
        Some(e) => e,
        None if no_input => anyhow::bail!("--email is required with --no-input"),
        None => prompt("Email")?,
    };
    let display_name = match display_name {
        Some(n) => n,
        None if no_input => email.split('@').next().unwrap_or("Admin").to_owned(),
        None => prompt("Name")?,
    };
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else if no_input {
        anyhow::bail!("--password-stdin is required with --no-input");
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password (again): ")?;
        if first != again {
            anyhow::bail!("the passwords do not match");
        }
        first
    };
    let user = app
        .create_user(None, &email, &display_name, &password, true)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("Created site admin {}.", user.email);
    Ok(())
}

async fn healthcheck(url: Option<String>, timeout_secs: u64) -> anyhow::Result<ExitCode> {
    let url = match url {
        Some(u) => u,
        None => {
            let listen =
                std::env::var("OPENSESA_LISTEN").unwrap_or_else(|_| "127.0.0.1:8000".into());
            format!("http://{}/healthz", listen.replace("0.0.0.0", "127.0.0.1"))
        }
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout_secs))
        .build()?;
    match client.get(&url).send().await {
        Ok(r) if r.status().is_success() => Ok(ExitCode::SUCCESS),
        Ok(r) => {
            eprintln!("unhealthy: {url} answered {}", r.status());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("unhealthy: {url}: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
