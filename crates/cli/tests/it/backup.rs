//! Backup and restore: identical content after wipe and restore, across backends, refusals
//! (non-empty target, newer archive, damaged archive) that change nothing, and the verified
//! backup that precedes a migration.

use opensesa_app::blob_port::BlobStore;
use opensesa_store::Db;
use opensesa_testkit::{Backend, TestDb, SECRET_KEY};
use std::path::{Path, PathBuf};

fn tmpdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("opensesa-bk-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A database with the demo data, a finished job and an uploaded file.
async fn seeded(b: Backend, dir: &Path) -> TestDb {
    let t = TestDb::migrated(b).await;
    let vars = opensesa::config::Vars::from_pairs([
        ("OPENSESA_SECRET_KEY", SECRET_KEY),
        ("DATABASE_URL", t.url.as_str()),
        ("OPENSESA_DATA_DIR", dir.to_str().unwrap()),
    ]);
    let settings = opensesa::config::Settings::load(&vars).unwrap();
    let app = opensesa::runtime::build_app(&settings, t.db.clone()).unwrap();
    opensesa::demo::seed(&app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    let admin = opensesa_app::Principal {
        user: app
            .store
            .find_user_by_email(
                &opensesa_domain::accounts::Email::parse("admin@opensesa.local").unwrap(),
            )
            .await
            .unwrap()
            .unwrap(),
        session: None,
    };
    app.enqueue_ping(&admin, 0).await.unwrap();
    std::fs::create_dir_all(dir.join("files/ab")).unwrap();
    std::fs::write(dir.join("files/ab/evidence.bin"), b"\x00\x01 evidence").unwrap();
    // An evidence file, and an upload interrupted in the evidence store (not backed up).
    evidence_store(dir).put(EVIDENCE).await.unwrap();
    std::fs::write(dir.join("files/evidence/tmp/interrupted.part"), b"half").unwrap();
    t
}

const EVIDENCE: &[u8] = b"%PDF-1.4\n% test report\n%%EOF\n";

fn evidence_store(data_dir: &Path) -> opensesa_store::blobs::FsBlobStore {
    opensesa_store::blobs::FsBlobStore::new(data_dir.join("files/evidence"), 1024)
}

fn checksums(m: &serde_json::Value) -> serde_json::Value {
    m["tables"].clone()
}

async fn backup_wipe_restore_gives_identical_content(b: Backend) {
    let dir = tmpdir();
    let t = seeded(b, &dir).await;
    let archive = dir.join("one.tar.gz");
    let first = opensesa::backup::backup(&t.db, &dir, &archive)
        .await
        .unwrap();
    assert!(first.manifest["tables"]["users"]["rows"].as_u64().unwrap() >= 4);
    assert!(
        first.manifest["tables"]["audit_events"]["rows"]
            .as_u64()
            .unwrap()
            > 10
    );
    assert_eq!(
        first.manifest["files"]["ab/evidence.bin"]
            .as_str()
            .map(str::len),
        Some(64)
    );
    assert_eq!(
        // The file above, the evidence file and the demo's evidence (a test log of VC-001);
        // the interrupted upload is not backed up.
        first.manifest["files"].as_object().map(|f| f.len()),
        Some(3),
        "{}",
        first.manifest["files"]
    );
    opensesa::backup::verify(&archive).await.unwrap();

    // Into the same, non-empty database: refused, nothing changed.
    let err = opensesa::backup::restore(&t.db, &dir, &archive, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    // Wipe and restore (--force), then a new backup has the same checksums.
    opensesa::backup::restore(&t.db, &dir, &archive, true)
        .await
        .unwrap();
    let again = opensesa::backup::backup(&t.db, &dir, &dir.join("two.tar.gz"))
        .await
        .unwrap();
    assert_eq!(checksums(&first.manifest), checksums(&again.manifest));
    // Derived data (not in the archive) is rebuilt: each requirement's current content hash.
    let sql = "SELECT COUNT(*) FROM requirements WHERE content_hash IS NULL";
    let missing: i64 = match &t.db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(sql).fetch_one(read).await,
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
    .unwrap();
    assert_eq!(missing, 0);
    let _ = std::fs::remove_dir_all(dir);
}

async fn a_backup_restores_into_the_other_backend(b: Backend) {
    let dir = tmpdir();
    let source = seeded(b, &dir).await;
    let archive = dir.join("cross.tar.gz");
    let first = opensesa::backup::backup(&source.db, &dir, &archive)
        .await
        .unwrap();
    let other = if b == Backend::Sqlite {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let target = TestDb::empty(other).await;
    let target_dir = tmpdir();
    opensesa::backup::restore(&target.db, &target_dir, &archive, false)
        .await
        .unwrap();
    let again = opensesa::backup::backup(&target.db, &target_dir, &target_dir.join("back.tar.gz"))
        .await
        .unwrap();
    assert_eq!(
        checksums(&first.manifest),
        checksums(&again.manifest),
        "{b:?} → {other:?} changed the content"
    );
    assert_eq!(
        std::fs::read(target_dir.join("files/ab/evidence.bin")).unwrap(),
        b"\x00\x01 evidence"
    );
    let sha256 = evidence_store(&dir).put(EVIDENCE).await.unwrap().sha256;
    assert_eq!(
        evidence_store(&target_dir).get(&sha256).await.unwrap(),
        EVIDENCE
    );
    // The restored users can log in: password hashes and everything else came across.
    let app = opensesa_app::App::new(
        std::sync::Arc::new(target.db.clone()),
        None,
        std::sync::Arc::new(opensesa_app::clock::SystemClock),
        opensesa_app::AppSettings::new(SECRET_KEY.into()),
    )
    .unwrap();
    let (_, next) = app
        .login(
            "lead@opensesa.local",
            opensesa::demo::DEMO_PASSWORD,
            &Default::default(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(next, opensesa_app::accounts::NextStep::Done);
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(target_dir);
}

/// Rewrites an archive with `edit` applied to one entry.
fn tamper(src: &Path, dst: &Path, name: &str, edit: impl Fn(Vec<u8>) -> Vec<u8>) {
    let mut input = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(src).unwrap(),
    ));
    let out = flate2::write::GzEncoder::new(
        std::fs::File::create(dst).unwrap(),
        flate2::Compression::fast(),
    );
    let mut builder = tar::Builder::new(out);
    for entry in input.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut body).unwrap();
        if path == name {
            body = edit(body);
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o600);
        h.set_cksum();
        builder.append_data(&mut h, &path, body.as_slice()).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

async fn count_users(db: &Db) -> i64 {
    opensesa_app::ports::AccountStore::count_users(db)
        .await
        .unwrap()
}

async fn bad_archives_are_refused_and_change_nothing(b: Backend) {
    let dir = tmpdir();
    let t = seeded(b, &dir).await;
    let archive = dir.join("good.tar.gz");
    opensesa::backup::backup(&t.db, &dir, &archive)
        .await
        .unwrap();

    let target = TestDb::empty(b).await;
    // A damaged table file.
    let damaged = dir.join("damaged.tar.gz");
    tamper(&archive, &damaged, "db/users.jsonl", |mut body| {
        body[10] ^= 1;
        body
    });
    let err = opensesa::backup::restore(&target.db, &dir, &damaged, false)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("db/users.jsonl does not match its checksum"),
        "{err}"
    );
    // An archive from a newer schema.
    let newer = dir.join("newer.tar.gz");
    tamper(&archive, &newer, "manifest.json", |body| {
        let mut m: serde_json::Value = serde_json::from_slice(&body).unwrap();
        m["schema"]["latest"] = 999.into();
        serde_json::to_vec(&m).unwrap()
    });
    let err = opensesa::backup::restore(&target.db, &dir, &newer, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("newer than this binary"), "{err}");
    // A row that cannot be inserted (a user without an email) rolls the whole restore back.
    let broken = dir.join("broken.tar.gz");
    tamper(&archive, &broken, "db/users.jsonl", |body| {
        let mut text = String::from_utf8(body).unwrap();
        text.push_str("{\"id\":\"01a2f0c4-0000-7000-8000-000000000000\"}\n");
        text.into_bytes()
    });
    let broken_fixed = dir.join("broken-fixed.tar.gz");
    tamper(&broken, &broken_fixed, "manifest.json", |body| {
        let mut m: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let mut input = tar::Archive::new(flate2::read::GzDecoder::new(
            std::fs::File::open(&broken).unwrap(),
        ));
        for e in input.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_string_lossy() == "db/users.jsonl" {
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut b).unwrap();
                use sha2::Digest;
                m["tables"]["users"]["sha256"] = sha2::Sha256::digest(&b)
                    .iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<String>()
                    .into();
            }
        }
        serde_json::to_vec(&m).unwrap()
    });
    let err = opensesa::backup::restore(&target.db, &dir, &broken_fixed, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("rolled back"), "{err}");
    assert_eq!(
        count_users(&target.db).await,
        0,
        "a failed restore leaves nothing behind"
    );
    assert_eq!(
        opensesa_store::dump::total_rows(&target.db).await.unwrap(),
        0
    );
    let err = opensesa::backup::restore(&target.db, &dir, &dir.join("no-such.tar.gz"), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot read"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

async fn migrate_takes_a_verified_backup_first(b: Backend) {
    let dir = tmpdir();
    let t = TestDb::empty(b).await;
    // Bring the database to the first migration only, with some data.
    let first = [opensesa_store::migrate::Migration {
        version: 1,
        name: "foundation",
        sqlite: opensesa_store::migrate::MIGRATIONS[0].sqlite,
        postgres: opensesa_store::migrate::MIGRATIONS[0].postgres,
    }];
    opensesa_store::migrate::run_list(&t.db, &first)
        .await
        .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_opensesa"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &t.url)
            .env("OPENSESA_SECRET_KEY", SECRET_KEY)
            .env("OPENSESA_DATA_DIR", &dir)
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["migrate"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Taking a verified backup before migrating"),
        "{text}"
    );
    let backups: Vec<_> = std::fs::read_dir(dir.join("backups")).unwrap().collect();
    assert_eq!(backups.len(), 1);
    assert!(text.contains("applied 0002_jobs.sql"));
    // Nothing pending: no backup.
    let out = run(&["migrate"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("No migrations to apply"));
    assert_eq!(std::fs::read_dir(dir.join("backups")).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

both!(
    backup_wipe_restore_gives_identical_content,
    a_backup_restores_into_the_other_backend,
    bad_archives_are_refused_and_change_nothing,
    migrate_takes_a_verified_backup_first,
);
