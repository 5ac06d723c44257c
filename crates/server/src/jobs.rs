//! Bounded work queues on threads of their own, below the routing workers in the OS
//! scheduler.
//!
//! Two kinds of work must never delay a routing answer: password hashing (Argon2 is built
//! to cost CPU and memory) and pack checks, imports and workbook builds (seconds of CPU
//! per file). Each gets a [`WorkQueue`]: a fixed number of worker threads with a raised
//! nice value (Linux schedules threads, not processes, so the tokio workers that answer
//! routing keep their full share), and a bounded waiting line. When the line is full the
//! caller is told at once ([`QueueFull`]) and answers 429/503: a flood costs a refusal, not
//! a thread, a connection held open, or memory.
//!
//! The design, and why tokio's blocking pool is not used for this work, is written down in
//! `docs/isolation.md`.
//!
//! [`Jobs`] is the registry of the checks and imports started from the web pages and
//! running on this server (their progress), held by the shared state.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

type Task = Box<dyn FnOnce() + Send>;

/// The waiting line is full: try again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull {
    /// How many tasks wait.
    pub waiting: usize,
}

/// The task ended without an answer (it panicked): reported as an internal error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskLost;

struct Line {
    waiting: VecDeque<(u64, Task)>,
    next_seq: u64,
    running: usize,
}

struct Shared {
    name: &'static str,
    line: Mutex<Line>,
    wake: Condvar,
    capacity: usize,
    workers: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Line> {
        // A task never runs under this lock, so poisoning cannot leave it half-updated.
        self.line
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A fixed pool of low-priority threads with a bounded waiting line.
#[derive(Clone)]
pub struct WorkQueue(Arc<Shared>);

/// A submitted task: its place in the line and its result.
pub struct Ticket<T> {
    seq: u64,
    queue: WorkQueue,
    rx: tokio::sync::oneshot::Receiver<T>,
}

impl<T> Ticket<T> {
    /// Tasks waiting ahead of this one (`None` once it runs or has run).
    pub fn ahead(&self) -> Option<usize> {
        self.queue.ahead_of(self.seq)
    }
    /// The sequence number, to ask [`WorkQueue::ahead_of`] later.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// Wait for the result.
    pub async fn wait(self) -> Result<T, TaskLost> {
        self.rx.await.map_err(|_| TaskLost)
    }
}

impl WorkQueue {
    /// `workers` threads named `name`, at `nice` (0: unchanged, 19: lowest), and at most
    /// `capacity` tasks waiting beyond those running.
    pub fn new(name: &'static str, workers: usize, capacity: usize, nice: i32) -> WorkQueue {
        let workers = workers.max(1);
        let shared = Arc::new(Shared {
            name,
            line: Mutex::new(Line {
                waiting: VecDeque::new(),
                next_seq: 0,
                running: 0,
            }),
            wake: Condvar::new(),
            capacity,
            workers,
        });
        for i in 0..workers {
            let s = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    lower_priority(nice);
                    work(&s);
                });
            if let Err(e) = spawned {
                tracing::error!("cannot start a {name} thread: {e}");
            }
        }
        WorkQueue(shared)
    }

    /// Queue `f`; refused at once when the line is full.
    pub fn submit<T, F>(&self, f: F) -> Result<Ticket<T>, QueueFull>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut line = self.0.lock();
        // Admitted tasks (running or waiting) never exceed the workers plus the line.
        if line.running + line.waiting.len() >= self.0.workers + self.0.capacity {
            return Err(QueueFull {
                waiting: line.waiting.len(),
            });
        }
        let seq = line.next_seq;
        line.next_seq += 1;
        let name = self.0.name;
        let queued = Instant::now();
        line.waiting.push_back((
            seq,
            Box::new(move || {
                let waited = queued.elapsed();
                let started = Instant::now();
                // The receiver may be gone (the client left): the work is done anyway,
                // an import must commit or roll back whole.
                let _ = tx.send(f());
                tracing::debug!(
                    queue = name,
                    waited_ms = waited.as_millis() as u64,
                    ran_ms = started.elapsed().as_millis() as u64,
                    "task done"
                );
            }),
        ));
        drop(line);
        self.0.wake.notify_one();
        Ok(Ticket {
            seq,
            queue: self.clone(),
            rx,
        })
    }

    /// Tasks waiting ahead of task `seq`; `None` when it is not waiting any more.
    pub fn ahead_of(&self, seq: u64) -> Option<usize> {
        let line = self.0.lock();
        line.waiting.iter().position(|(s, _)| *s == seq)
    }

    /// Whether a task submitted now would be admitted.
    pub fn has_room(&self) -> bool {
        let line = self.0.lock();
        line.running + line.waiting.len() < self.0.workers + self.0.capacity
    }

    /// (running, waiting) now.
    pub fn depth(&self) -> (usize, usize) {
        let line = self.0.lock();
        (line.running, line.waiting.len())
    }
}

fn work(s: &Shared) {
    loop {
        let task = {
            let mut line = s.lock();
            loop {
                if let Some((_, t)) = line.waiting.pop_front() {
                    line.running += 1;
                    break t;
                }
                line = s
                    .wake
                    .wait(line)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        // A panicking task (a defect) must not take the worker with it: the caller's
        // ticket reports it lost, the thread goes on with the next task.
        if std::panic::catch_unwind(AssertUnwindSafe(task)).is_err() {
            tracing::error!(queue = s.name, "a task panicked");
        }
        s.lock().running -= 1;
    }
}

/// Raise this thread's nice value. On Linux `setpriority(PRIO_PROCESS, tid)` applies to one
/// thread; the tokio workers keep theirs.
fn lower_priority(nice: i32) {
    if nice <= 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority only reads its arguments.
        let rc = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice)
        };
        if rc != 0 {
            tracing::warn!(
                "cannot lower this worker's priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// This thread's nice value (tests).
#[cfg(all(test, target_os = "linux"))]
fn current_nice() -> i32 {
    // SAFETY: as above; getpriority reads its arguments only.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[tokio::test]
    async fn runs_and_refuses_when_full() {
        let q = WorkQueue::new("test", 1, 2, 0);
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let go_rx = Arc::new(Mutex::new(go_rx));
        // One running (blocked until told), two waiting, the fourth refused.
        let mut tickets = Vec::new();
        for i in 0..3 {
            let rx = go_rx.clone();
            tickets.push(
                q.submit(move || {
                    let _ = rx.lock().map(|r| r.recv());
                    i
                })
                .expect("room"),
            );
        }
        // Wait until the first task has left the line for the worker.
        for _ in 0..200 {
            if q.depth() == (1, 2) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(q.depth(), (1, 2));
        assert_eq!(tickets[0].ahead(), None);
        assert_eq!(tickets[1].ahead(), Some(0));
        assert_eq!(tickets[2].ahead(), Some(1));
        assert_eq!(q.submit(|| 9).err(), Some(QueueFull { waiting: 2 }));
        for _ in 0..3 {
            go_tx.send(()).expect("worker listening");
        }
        let mut got = Vec::new();
        for t in tickets {
            got.push(t.wait().await.expect("answer"));
        }
        assert_eq!(got, vec![0, 1, 2]);
        assert_eq!(q.submit(|| 7).expect("room again").wait().await, Ok(7));
    }

    #[tokio::test]
    async fn a_panic_loses_one_task_not_the_worker() {
        let q = WorkQueue::new("test", 1, 4, 0);
        let lost = q
            .submit(|| -> u8 { panic!("defect") })
            .expect("room")
            .wait()
            .await;
        assert_eq!(lost, Err(TaskLost));
        assert_eq!(q.submit(|| 5).expect("room").wait().await, Ok(5));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn workers_run_below_the_caller() {
        let before = current_nice();
        let q = WorkQueue::new("test", 1, 1, 10);
        let nice = q.submit(current_nice).expect("room").wait().await;
        // An unprivileged process may not lower it again, but raising always works.
        assert_eq!(nice, Ok((before + 10).min(19)));
        assert_eq!(current_nice(), before);
    }
}

// Checks and imports started from the web pages: their progress is held by the server
// running them, shared by the state (which owns the registry) and the pages (which read it).

/// A check or import running on this server.
#[derive(Debug, Default)]
pub struct Job {
    /// Rows read so far.
    pub rows: AtomicU64,
    /// Its number in the job queue, to tell how many wait ahead of it.
    pub seq: AtomicU64,
    /// Whether it is an import (else a check).
    pub importing: AtomicBool,
}

/// Running jobs by upload id.
#[derive(Debug, Default)]
pub struct Jobs(Mutex<HashMap<String, Arc<Job>>>);

impl Jobs {
    /// Register a job; `None` when one already runs for this upload.
    pub fn start(&self, id: &str, importing: bool) -> Option<Arc<Job>> {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.contains_key(id) {
            return None;
        }
        let job = Arc::new(Job::default());
        job.importing.store(importing, Ordering::Relaxed);
        m.insert(id.to_string(), job.clone());
        Some(job)
    }
    /// The running job of an upload.
    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }
    /// Number of jobs running.
    pub fn len(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
    /// Whether no job runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Forget a finished job.
    pub fn end(&self, id: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
    }
}
