//! Verification snapshots: the frozen record of a plan's or set's cases at their revisions
//! with their latest results, and the comparison of two snapshots. A snapshot's content is
//! written once and hashed; nothing later changes it.

use super::status::Verdict;
use crate::ids::{CaseId, ResultId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One case as the snapshot froze it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapCase {
    pub case_id: CaseId,
    pub human_id: String,
    pub title: String,
    pub revision: i64,
    /// The content hash of that revision (the revisions table), so a reader can check it.
    pub revision_hash: String,
    pub status: String,
    pub latest: Option<SnapResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapResult {
    pub result_id: ResultId,
    pub verdict: Verdict,
    pub executed_at: String,
}

/// The frozen content, cases sorted by human id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotContent {
    pub cases: Vec<SnapCase>,
}

impl SnapshotContent {
    pub fn new(mut cases: Vec<SnapCase>) -> Self {
        cases.sort_by(|a, b| a.human_id.cmp(&b.human_id).then(a.case_id.cmp(&b.case_id)));
        Self { cases }
    }

    /// Verdict counts (no result counts as not run).
    pub fn verdict_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for c in &self.cases {
            let v = c.latest.as_ref().map_or(Verdict::NotRun, |r| r.verdict);
            *m.entry(v.as_str()).or_insert(0) += 1;
        }
        m
    }
}

/// How a case differs between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseChange {
    pub human_id: String,
    pub title: String,
    pub from_revision: i64,
    pub to_revision: i64,
    pub from_verdict: Option<Verdict>,
    pub to_verdict: Option<Verdict>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SnapshotDiff {
    pub added: Vec<SnapCase>,
    pub removed: Vec<SnapCase>,
    /// A new revision of the case (its verdict may also differ).
    pub changed: Vec<CaseChange>,
    /// Same revision, different latest verdict.
    pub verdict_changed: Vec<CaseChange>,
    pub unchanged: usize,
}

pub fn compare(from: &SnapshotContent, to: &SnapshotContent) -> SnapshotDiff {
    let a: BTreeMap<CaseId, &SnapCase> = from.cases.iter().map(|c| (c.case_id, c)).collect();
    let b: BTreeMap<CaseId, &SnapCase> = to.cases.iter().map(|c| (c.case_id, c)).collect();
    let mut d = SnapshotDiff::default();
    for c in &to.cases {
        match a.get(&c.case_id) {
            None => d.added.push(c.clone()),
            Some(old) => {
                let verdict = |s: &SnapCase| s.latest.as_ref().map(|r| r.verdict);
                let change = CaseChange {
                    human_id: c.human_id.clone(),
                    title: c.title.clone(),
                    from_revision: old.revision,
                    to_revision: c.revision,
                    from_verdict: verdict(old),
                    to_verdict: verdict(c),
                };
                if old.revision != c.revision || old.revision_hash != c.revision_hash {
                    d.changed.push(change);
                } else if change.from_verdict != change.to_verdict {
                    d.verdict_changed.push(change);
                } else {
                    d.unchanged += 1;
                }
            }
        }
    }
    d.removed = from
        .cases
        .iter()
        .filter(|c| !b.contains_key(&c.case_id))
        .cloned()
        .collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(n: u8, revision: i64, verdict: Option<Verdict>) -> SnapCase {
        SnapCase {
            case_id: CaseId(uuid::Uuid::from_bytes([n; 16])),
            human_id: format!("VC-{n:03}"),
            title: format!("case {n}"),
            revision,
            revision_hash: format!("h{revision}"),
            status: "ready".into(),
            latest: verdict.map(|v| SnapResult {
                result_id: ResultId(uuid::Uuid::from_bytes([n + 100; 16])),
                verdict: v,
                executed_at: "2026-01-01T00:00:00Z".into(),
            }),
        }
    }

    #[test]
    fn compares_cases_and_verdicts() {
        let from = SnapshotContent::new(vec![
            case(1, 1, Some(Verdict::Pass)),
            case(2, 1, Some(Verdict::Fail)),
            case(3, 1, None),
            case(4, 2, Some(Verdict::Pass)),
        ]);
        let to = SnapshotContent::new(vec![
            case(1, 1, Some(Verdict::Pass)),
            case(2, 1, Some(Verdict::Pass)),
            case(4, 3, Some(Verdict::Pass)),
            case(5, 1, None),
        ]);
        let d = compare(&from, &to);
        assert_eq!(
            d.added
                .iter()
                .map(|c| c.human_id.as_str())
                .collect::<Vec<_>>(),
            ["VC-005"]
        );
        assert_eq!(
            d.removed
                .iter()
                .map(|c| c.human_id.as_str())
                .collect::<Vec<_>>(),
            ["VC-003"]
        );
        assert_eq!(d.changed.len(), 1);
        assert_eq!(
            (d.changed[0].from_revision, d.changed[0].to_revision),
            (2, 3)
        );
        assert_eq!(d.verdict_changed.len(), 1);
        assert_eq!(d.verdict_changed[0].from_verdict, Some(Verdict::Fail));
        assert_eq!(d.verdict_changed[0].to_verdict, Some(Verdict::Pass));
        assert_eq!(d.unchanged, 1);
        assert_eq!(from.verdict_counts()["not_run"], 1);
    }
}
