//! Background work of OpenSESA. For now the periodic maintenance that keeps authentication
//! state small (expired sessions, old authentication failures); the job queue and its
//! handlers join here with the background-jobs capability.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use opensesa_app::App;
use std::time::Duration;
use tokio::sync::watch;

/// Runs maintenance every `every` until `shutdown` turns true. Errors are logged and retried
/// at the next tick: maintenance must never take the server down.
pub async fn run_maintenance(app: App, every: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                match app.prune_auth_state().await {
                    Ok((sessions, failures)) if sessions + failures > 0 => {
                        tracing::info!(sessions, failures, "maintenance: pruned expired sessions and old authentication failures");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "maintenance failed; retrying at the next tick"),
                }
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}
