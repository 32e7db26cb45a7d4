//! Long calls: the work runs on a worker thread (which starts the study's thread pool)
//! with the GIL released, while the calling thread wakes every [`POLL`] to check for
//! Ctrl-C (`Python::check_signals`) and to report progress to an optional callback. On
//! an interrupt (or an exception in the callback) it sets [`Control::stop`]: no further
//! replication starts, the running ones finish, the threads are joined, and the
//! exception (`KeyboardInterrupt`) is raised.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// How often the calling thread checks for signals and reports progress.
pub const POLL: Duration = Duration::from_millis(50);

/// Shared between the caller and the work.
#[derive(Debug, Default)]
pub struct Control {
    /// Set by the caller: start no further replication.
    pub stop: AtomicBool,
    /// Replications finished so far (set by the work).
    pub done: AtomicU64,
}

impl Control {
    /// Counts one finished replication.
    pub fn tick(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs `work` on a worker thread without the GIL, checking signals and calling
/// `progress(done, total)` whenever the count of finished replications changed.
pub fn supervised<T: Send>(
    py: Python<'_>,
    progress: Option<(&Py<PyAny>, u64)>,
    work: impl FnOnce(&Control) -> T + Send,
) -> PyResult<T> {
    let control = Control::default();
    py.detach(|| {
        std::thread::scope(|s| {
            let (tx, rx) = channel();
            let ctl = &control;
            let handle = s.spawn(move || {
                let out = work(ctl);
                let _ = tx.send(());
                out
            });
            let mut reported = None;
            loop {
                let finished = !matches!(rx.recv_timeout(POLL), Err(RecvTimeoutError::Timeout));
                if let Err(e) = check(progress, ctl, &mut reported) {
                    ctl.stop.store(true, Ordering::Relaxed);
                    let _ = handle.join();
                    return Err(e);
                }
                if finished {
                    break;
                }
            }
            handle
                .join()
                .map_err(|_| PyRuntimeError::new_err("a dialtone worker thread panicked"))
        })
    })
}

/// With the GIL: raises a pending signal's exception, then reports progress if it moved.
fn check(
    progress: Option<(&Py<PyAny>, u64)>,
    ctl: &Control,
    reported: &mut Option<u64>,
) -> PyResult<()> {
    Python::attach(|py| {
        py.check_signals()?;
        let n = ctl.done.load(Ordering::Relaxed);
        if let Some((cb, total)) = progress
            && *reported != Some(n)
        {
            cb.call1(py, (n, total))?;
            *reported = Some(n);
        }
        Ok(())
    })
}
