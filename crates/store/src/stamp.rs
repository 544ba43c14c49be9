//! Human ids are allocated inside the transaction that creates an artefact, so that numbers
//! have no gaps on rollback; the journal (first revision, create event) was built before
//! that, and is stamped with the allocated id here.

use opensesa_app::ports::Journal;
use std::collections::HashMap;

/// Where each artefact's entries of one type sit in a journal.
pub struct JournalIndex(HashMap<String, (Vec<usize>, Vec<usize>)>);

impl JournalIndex {
    pub fn new(journal: &Journal, artefact_type: &str) -> Self {
        let mut index: HashMap<String, (Vec<usize>, Vec<usize>)> = HashMap::new();
        for (i, r) in journal.revisions.iter().enumerate() {
            if r.artefact_type == artefact_type {
                index.entry(r.artefact_id.clone()).or_default().0.push(i);
            }
        }
        for (i, e) in journal.events.iter().enumerate() {
            if e.artefact_type == artefact_type {
                index.entry(e.artefact_id.clone()).or_default().1.push(i);
            }
        }
        Self(index)
    }

    /// Writes `human_id` into the artefact's revision snapshots (recomputing their content
    /// hashes) and into the `human_id` change of its events.
    pub fn stamp(&self, journal: &mut Journal, artefact_id: &str, human_id: &str) {
        let Some((revs, events)) = self.0.get(artefact_id) else {
            return;
        };
        for &i in revs {
            if let Some(r) = journal.revisions.get_mut(i) {
                if let Some(obj) = r.data.as_object_mut() {
                    obj.insert("human_id".into(), serde_json::Value::from(human_id));
                }
                r.content_hash = opensesa_domain::revision::content_hash(&r.data);
            }
        }
        for &i in events {
            if let Some(e) = journal.events.get_mut(i) {
                for c in e.changes.iter_mut().filter(|c| c.field == "human_id") {
                    c.after = serde_json::Value::from(human_id);
                }
            }
        }
    }
}
