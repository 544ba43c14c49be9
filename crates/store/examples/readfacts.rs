use opensesa_app::requirement_port::RequirementStore;
use opensesa_app::vv_port::VvStore;
use opensesa_store::{Db, DbOptions};
use std::time::Instant;
#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).unwrap();
    let db = Db::connect(&DbOptions {
        url,
        max_connections: 4,
        pg_schema: None,
    })
    .await
    .unwrap();
    let pid: (uuid::Uuid,) = match &db {
        Db::Sqlite { read, .. } => sqlx::query_as("SELECT id FROM projects WHERE code='BENCH'")
            .fetch_one(read)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_as("SELECT id FROM projects WHERE code='BENCH'")
            .fetch_one(p)
            .await
            .unwrap(),
    };
    let p = opensesa_domain::ids::ProjectId(pid.0);
    for _ in 0..2 {
        let t = Instant::now();
        let n = db.requirement_facts_light(p).await.unwrap().len();
        println!("facts {n} {:?}", t.elapsed());
        let t = Instant::now();
        let n = db.link_facts(p).await.unwrap().len();
        println!("links {n} {:?}", t.elapsed());
        let t = Instant::now();
        let n = db.case_facts(p).await.unwrap().len();
        println!("cases {n} {:?}", t.elapsed());
        let t = Instant::now();
        let n = db.latest_results(p).await.unwrap().len();
        println!("latest {n} {:?}", t.elapsed());
        let t = Instant::now();
        let n = db.list_modules(p).await.unwrap().len();
        println!("modules {n} {:?}", t.elapsed());
    }
}
