//! Ctrl-C: the first one asks every running scenario to stop and clean up; the command line
//! decides what a second one does (abort).

use std::sync::{
    OnceLock,
    atomic::{AtomicBool, Ordering},
};

use tokio::sync::Notify;

static REQUESTED: AtomicBool = AtomicBool::new(false);

fn notify() -> &'static Notify {
    static NOTIFY: OnceLock<Notify> = OnceLock::new();
    NOTIFY.get_or_init(Notify::new)
}

/// Asks running scenarios to stop.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
    notify().notify_waiters();
}

/// Whether a stop was asked for.
#[must_use]
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Completes when a stop is asked for (at once if it already was).
pub async fn wait() {
    loop {
        let notified = notify().notified();
        if requested() {
            return;
        }
        notified.await;
    }
}
