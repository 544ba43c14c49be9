//! Results computed from a whole project's facts, kept per project under the key they were
//! computed for (a version the database bumps on every write that can change them, and for
//! some the day). A reader that sees the same key reuses the result instead of reading and
//! computing over thousands of rows again; any other key recomputes and replaces it.
//!
//! The key must be read *before* the facts: a write landing in between then leaves the
//! result under the older key, so it is computed again next time instead of being served
//! stale.

use opensesa_domain::ids::ProjectId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Projects kept at most by default; beyond, the cache starts over (a deployment with more
/// active projects than this recomputes more often, it never serves a wrong result).
const KEPT: usize = 64;

/// The version of a project's requirement, trace and V&V facts (migration 0008): the epoch
/// changes when the database is rebuilt, the version on every write. `None` before the
/// project's first write.
pub type FactVersion = Option<(Uuid, i64)>;

/// Per project: the key a result was computed for, and the result.
type Entries<K, V> = HashMap<ProjectId, (K, Arc<V>)>;

pub struct ProjectCache<K, V> {
    entries: Arc<Mutex<Entries<K, V>>>,
    kept: usize,
}

impl<K, V> Default for ProjectCache<K, V> {
    fn default() -> Self {
        Self::keeping(KEPT)
    }
}

impl<K, V> Clone for ProjectCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
            kept: self.kept,
        }
    }
}

impl<K, V> ProjectCache<K, V> {
    /// A cache of at most `kept` projects' results (for results of tens of megabytes).
    pub fn keeping(kept: usize) -> Self {
        Self {
            entries: Arc::new(Mutex::new(HashMap::new())),
            kept: kept.max(1),
        }
    }
}

impl<K: PartialEq, V> ProjectCache<K, V> {
    /// The result kept for `project` if it was computed for `key`.
    pub fn get(&self, project: ProjectId, key: &K) -> Option<Arc<V>> {
        let map = self.entries.lock().ok()?;
        match map.get(&project) {
            Some((k, v)) if k == key => Some(v.clone()),
            _ => None,
        }
    }

    pub fn put(&self, project: ProjectId, key: K, value: Arc<V>) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= self.kept && !map.contains_key(&project) {
                map.clear();
            }
            map.insert(project, (key, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_served_only_for_its_key() {
        let cache: ProjectCache<i64, &str> = ProjectCache::default();
        let p = ProjectId::new();
        assert!(cache.get(p, &1).is_none());
        cache.put(p, 1, Arc::new("one"));
        assert_eq!(cache.get(p, &1).as_deref(), Some(&"one"));
        assert!(cache.get(p, &2).is_none());
        assert!(cache.get(ProjectId::new(), &1).is_none());
        cache.put(p, 2, Arc::new("two"));
        assert!(cache.get(p, &1).is_none());
        assert_eq!(cache.get(p, &2).as_deref(), Some(&"two"));
    }

    #[test]
    fn a_small_cache_starts_over_sooner() {
        let cache: ProjectCache<i64, i64> = ProjectCache::keeping(2);
        let (a, b, c) = (ProjectId::new(), ProjectId::new(), ProjectId::new());
        cache.put(a, 1, Arc::new(1));
        cache.put(b, 1, Arc::new(1));
        cache.put(a, 2, Arc::new(2));
        assert!(
            cache.get(b, &1).is_some(),
            "replacing a kept project keeps the others"
        );
        cache.put(c, 1, Arc::new(1));
        assert!(cache.get(a, &2).is_none());
        assert!(cache.get(c, &1).is_some());
    }

    #[test]
    fn the_cache_starts_over_beyond_its_size() {
        let cache: ProjectCache<i64, i64> = ProjectCache::default();
        let first = ProjectId::new();
        cache.put(first, 0, Arc::new(0));
        for i in 1..KEPT as i64 {
            cache.put(ProjectId::new(), i, Arc::new(i));
        }
        assert!(cache.get(first, &0).is_some());
        cache.put(ProjectId::new(), 99, Arc::new(99));
        assert!(cache.get(first, &0).is_none());
    }
}
