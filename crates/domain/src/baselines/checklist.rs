//! The readiness checklist of a release pack, computed live from facts about the pack's
//! baseline: every requirement approved at its baselined revision, every requirement verified
//! by a case, no failing case, no open critical or major defect, no suspect link.

use serde::Serialize;

/// What the checklist is computed from (read by the store, live).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChecklistFacts {
    /// Requirements proper in the baseline (headings and information excluded).
    pub requirements: usize,
    /// Human ids of requirements whose baselined revision is not an approved one.
    pub not_approved: Vec<String>,
    /// Human ids of requirements no case of the project verifies.
    pub without_case: Vec<String>,
    /// Verification cases in the baseline.
    pub cases: usize,
    /// Human ids of the baseline's cases whose latest result is a failure.
    pub failing: Vec<String>,
    /// Human ids of the baseline's cases with no result or a result other than pass/fail.
    pub not_passed: Vec<String>,
    /// Open defects linked to the baseline's cases or requirements: (human id, severity).
    pub open_defects: Vec<(String, String)>,
    /// Trace links of the baseline that are suspect now.
    pub suspect_links: Vec<String>,
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckItem {
    /// Stable id: approved, coverage, failing, defects, suspect.
    pub id: &'static str,
    pub label: &'static str,
    pub passed: bool,
    /// What was found, with up to ten examples.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    pub items: Vec<CheckItem>,
    /// Informative, not blocking: cases not yet passed, minor defects.
    pub notes: Vec<String>,
}

impl Checklist {
    pub fn passed(&self) -> bool {
        self.items.iter().all(|i| i.passed)
    }
    pub fn failing(&self) -> Vec<&CheckItem> {
        self.items.iter().filter(|i| !i.passed).collect()
    }
}

fn examples(ids: &[String]) -> String {
    let mut s = ids.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
    if ids.len() > 10 {
        s.push_str(&format!(" and {} more", ids.len() - 10));
    }
    s
}

fn line(
    id: &'static str,
    label: &'static str,
    bad: &[String],
    ok: String,
    what: &str,
) -> CheckItem {
    CheckItem {
        id,
        label,
        passed: bad.is_empty(),
        detail: if bad.is_empty() {
            ok
        } else {
            format!("{} {what}: {}", bad.len(), examples(bad))
        },
    }
}

pub fn evaluate(f: &ChecklistFacts) -> Checklist {
    let blocking: Vec<String> = f
        .open_defects
        .iter()
        .filter(|(_, s)| s == "critical" || s == "major")
        .map(|(h, s)| format!("{h} ({s})"))
        .collect();
    let minor = f.open_defects.len() - blocking.len();
    let covered = f.requirements.saturating_sub(f.without_case.len());
    let pct = if f.requirements == 0 {
        100.0
    } else {
        covered as f64 * 100.0 / f.requirements as f64
    };
    let items = vec![
        line(
            "approved",
            "Every requirement in scope approved",
            &f.not_approved,
            format!(
                "{} requirements approved at their baselined revision",
                f.requirements
            ),
            "not approved at the baselined revision",
        ),
        CheckItem {
            detail: if f.without_case.is_empty() {
                format!(
                    "verification coverage 100 % ({covered} of {})",
                    f.requirements
                )
            } else {
                format!(
                    "verification coverage {pct:.1} % ({covered} of {}); without a case: {}",
                    f.requirements,
                    examples(&f.without_case)
                )
            },
            ..line(
                "coverage",
                "Every requirement verified by a case",
                &f.without_case,
                String::new(),
                "",
            )
        },
        line(
            "failing",
            "No failing verification case",
            &f.failing,
            format!("no failing case among {}", f.cases),
            "cases fail",
        ),
        line(
            "defects",
            "No open critical or major defect",
            &blocking,
            "no open critical or major defect".into(),
            "open critical or major defects",
        ),
        line(
            "suspect",
            "No suspect trace link",
            &f.suspect_links,
            "no suspect link".into(),
            "suspect links",
        ),
    ];
    let mut notes = Vec::new();
    if !f.not_passed.is_empty() {
        notes.push(format!(
            "{} cases not passed yet (not run, blocked or inconclusive): {}",
            f.not_passed.len(),
            examples(&f.not_passed)
        ));
    }
    if minor > 0 {
        notes.push(format!("{minor} open minor defects"));
    }
    Checklist { items, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_baseline_passes_and_each_finding_fails_its_line() {
        let mut f = ChecklistFacts {
            requirements: 3,
            cases: 2,
            ..Default::default()
        };
        assert!(evaluate(&f).passed());
        f.open_defects.push(("DEF-001".into(), "minor".into()));
        let c = evaluate(&f);
        assert!(c.passed(), "a minor defect does not block");
        assert_eq!(c.notes.len(), 1);
        f.open_defects.push(("DEF-002".into(), "major".into()));
        f.without_case.push("SYS-002".into());
        let c = evaluate(&f);
        let failing: Vec<&str> = c.failing().iter().map(|i| i.id).collect();
        assert_eq!(failing, vec!["coverage", "defects"]);
        assert!(
            c.items[1].detail.contains("66.7 %"),
            "{}",
            c.items[1].detail
        );
        assert!(c.items[3].detail.contains("DEF-002 (major)"));
    }

    #[test]
    fn long_lists_are_cut_to_ten_examples() {
        let f = ChecklistFacts {
            requirements: 20,
            not_approved: (1..=12).map(|n| format!("R-{n}")).collect(),
            ..Default::default()
        };
        let c = evaluate(&f);
        assert!(
            c.items[0].detail.ends_with("and 2 more"),
            "{}",
            c.items[0].detail
        );
    }
}
