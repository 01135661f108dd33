//! Writing to the terminal without panicking.
//!
//! `println!` panics when standard output is closed (`run --sim | head -c1`) or full
//! (`> /dev/full`). Every line the command prints goes through [`out`] instead: a closed pipe
//! silences the rest of the output and changes nothing else (a run still cleans up and exits
//! with its verdict's code); any other write error is reported once on standard error and
//! makes the command exit 2 ([`failed`]). Standard error itself is written best-effort.

use std::{
    fmt,
    io::{ErrorKind, Write},
    sync::atomic::{AtomicBool, Ordering},
};

static CLOSED: AtomicBool = AtomicBool::new(false);
static FAILED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output (see the module documentation).
pub fn out(args: fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args) {
        give_up(&e);
    }
}

/// Flushes standard output; call before exiting.
pub fn flush() {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = std::io::stdout().lock().flush() {
        give_up(&e);
    }
}

fn give_up(e: &std::io::Error) {
    CLOSED.store(true, Ordering::Relaxed);
    if e.kind() != ErrorKind::BrokenPipe && !FAILED.swap(true, Ordering::Relaxed) {
        err(format_args!("error: cannot write to standard output: {e}\n"));
    }
}

/// Writes to standard error, ignoring failure (there is nowhere left to report it).
pub fn err(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Whether writing to standard output failed other than by the reader going away.
#[must_use]
pub fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}

/// `print!` through [`out`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::console::out(format_args!($($arg)*)) };
}

/// `println!` through [`out`].
#[macro_export]
macro_rules! outln {
    () => { $crate::console::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` through [`err`].
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::console::err(format_args!("{}\n", format_args!($($arg)*))) };
}
