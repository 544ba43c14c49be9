//! The V&V dashboard: verdict counts of the cases' latest results, the trend of results
//! recorded per day, open defects by severity and requirements no case verifies — a few
//! aggregate queries over derived tables, kept per project until its facts or the day change
//! (counting the requirements without a case probes every requirement of the project).

use crate::error::AppResult;
use crate::portfolio::ProjectCtx;
use crate::ports::{DashboardFacts, PlanSummary};
use crate::{App, Principal};
use chrono::{Duration, NaiveDate};
use opensesa_domain::access::Permission;
use opensesa_domain::vv::Verdict;
use std::sync::Arc;

/// Days of trend shown.
pub const TREND_DAYS: i64 = 30;

pub struct TrendDay {
    pub day: NaiveDate,
    /// Results recorded that day per verdict, in `Verdict::ALL` order.
    pub counts: Vec<i64>,
}

pub struct VvDashboard {
    pub ctx: ProjectCtx,
    pub facts: Arc<DashboardFacts>,
    /// Cases per latest verdict, in `Verdict::ALL` order; cases without a result count as
    /// not run.
    pub verdicts: Vec<(Verdict, i64)>,
    pub trend: Vec<TrendDay>,
    pub open_defects: Vec<(String, i64)>,
    pub plans: Vec<PlanSummary>,
}

impl App {
    pub async fn vv_dashboard(&self, principal: &Principal, code: &str) -> AppResult<VvDashboard> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let today = self.clock.now().date_naive();
        let since = today - Duration::days(TREND_DAYS - 1);
        // From the cache while the project's facts and the day are unchanged; the version
        // is read before the facts (see `project_cache`).
        let project = ctx.project.id;
        let key = (self.store.fact_version(project).await?, today);
        let facts = match self.vv_dashboards.get(project, &key) {
            Some(facts) => facts,
            None => {
                let facts = Arc::new(self.store.dashboard(project, since).await?);
                self.vv_dashboards.put(project, key, facts.clone());
                facts
            }
        };
        let with_result: i64 = facts.verdicts.iter().map(|(_, n)| n).sum();
        let verdicts = Verdict::ALL
            .iter()
            .map(|v| {
                let n = facts
                    .verdicts
                    .iter()
                    .find(|(s, _)| s == v.as_str())
                    .map_or(0, |(_, n)| *n);
                let n = if *v == Verdict::NotRun {
                    n + (facts.cases - with_result).max(0)
                } else {
                    n
                };
                (*v, n)
            })
            .collect();
        let trend = (0..TREND_DAYS)
            .map(|i| {
                let day = since + Duration::days(i);
                TrendDay {
                    day,
                    counts: Verdict::ALL
                        .iter()
                        .map(|v| {
                            facts
                                .daily
                                .iter()
                                .find(|(d, s, _)| *d == day && s == v.as_str())
                                .map_or(0, |(_, _, n)| *n)
                        })
                        .collect(),
                }
            })
            .collect();
        let open_defects = ["critical", "major", "minor"]
            .iter()
            .map(|s| {
                let n = facts
                    .open_defects
                    .iter()
                    .find(|(x, _)| x == s)
                    .map_or(0, |(_, n)| *n);
                ((*s).to_owned(), n)
            })
            .collect();
        let plans = self.store.list_plans(ctx.project.id).await?;
        Ok(VvDashboard {
            ctx,
            facts,
            verdicts,
            trend,
            open_defects,
            plans,
        })
    }
}
