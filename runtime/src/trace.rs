//! A Chrome/Perfetto trace writer (the executable's `--trace FILE`): the JSON object format
//! `{"traceEvents": [...], "displayTimeUnit": "ms"}` that `chrome://tracing` and
//! ui.perfetto.dev open.
//!
//! One process (`pid` 1, named after the program); one thread id (`tid`) per track, a track
//! per device and lane (`cpu`, `cpu lane 2`, `cuda:0`…), named by `thread_name` metadata and
//! ordered by `thread_sort_index` (order of creation); one complete event (`"ph": "X"`, `ts`
//! and `dur` in microseconds since the trace started) per slice: a fragment, a decode step.
//! The file is written to a temporary file in the same folder and renamed, so a reader never
//! sees half.
//!
//! Perfetto draws the slices of one track as a stack, so they must nest (never partially
//! overlap). Slices recorded by one thread nest (a thread finishes an inner slice before its
//! outer one), so concurrent work gets a **lane** per thread: a thread that runs `map` bodies
//! or fragments beside others holds a [`Lane`] while it works ([`Trace::lane`]), and its
//! slices go to its device's track of that lane. The first thread of a run records on lane 1
//! (the plain device name); a lane is reused only after the thread holding it let it go.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{Value, json};

/// CPU seconds the whole process (every thread) has used: `clock_gettime(2)` with
/// `CLOCK_PROCESS_CPUTIME_ID` (nanoseconds, unlike `/proc/self/stat`'s 10 ms ticks); `None`
/// where it is not built (other than 64-bit Linux) or fails. A trace's fragment slices give
/// its growth over the slice (`cpu_s`).
///
/// The process clock sums what the scheduler has booked for each thread, and Linux books
/// the time of a thread running on another core only at a scheduler tick or a context
/// switch (`thread_group_cputime` brings only the calling thread up to date), so over a
/// slice of a few milliseconds it was off by up to a tick per running thread: the tiny
/// Llama's 2 ms decode read anywhere from 0.2 to 3 cores busy. Reading each live thread's
/// own clock first (`/proc/self/task`, a thread CPU clock per id) makes the kernel book
/// each running thread's time up to now, so the process clock read after it is current to
/// within the microseconds the reads take; threads that ended are in it already.
pub fn process_cpu_seconds() -> Option<f64> {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for tid in tasks.flatten().filter_map(|t| t.file_name().to_str()?.parse::<i32>().ok()) {
                // A thread that ended since the listing is skipped (the read fails).
                let _ = cpu_clock(thread_cpu_clock(tid));
            }
        }
        cpu_clock(CLOCK_PROCESS_CPUTIME_ID)
    }
    #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
    {
        None
    }
}

/// The clock id of thread `tid`'s CPU time as the scheduler counts it (Linux's
/// `MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)`, what `pthread_getcpuclockid` returns).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_clock(tid: i32) -> i32 {
    const CPUCLOCK_PERTHREAD: i32 = 4;
    const CPUCLOCK_SCHED: i32 = 2;
    (!tid << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED
}

/// Seconds on CPU clock `clock` (`clock_gettime(2)`), `None` when the call fails.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn cpu_clock(clock: i32) -> Option<f64> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec (two 64-bit fields on 64-bit Linux) to write.
    (unsafe { clock_gettime(clock, &mut ts) } == 0).then(|| ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
}

/// A trace being recorded; shareable between threads.
#[derive(Debug)]
pub struct Trace {
    process: String,
    start: Instant,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tracks: Vec<String>,
    events: Vec<Value>,
    /// Keys of the planned slices recorded (each planned fragment once).
    planned: std::collections::HashSet<String>,
    /// The lanes held by threads other than the first (lane 0 is never handed out).
    busy_lanes: BTreeSet<u32>,
    /// Per planned track name, the slices of each of its lanes (to place a planned slice on
    /// the first lane where it nests).
    planned_lanes: std::collections::HashMap<String, Vec<Vec<(f64, f64)>>>,
}

thread_local! {
    /// The lane of the current thread (0 unless it holds a [`Lane`]).
    static LANE: Cell<u32> = const { Cell::new(0) };
}

/// A lane held by the current thread (see the module doc); given back when dropped.
#[derive(Debug)]
pub struct Lane<'t> {
    trace: &'t Trace,
    lane: u32,
    previous: u32,
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        LANE.with(|l| l.set(self.previous));
        self.trace.inner.lock().unwrap().busy_lanes.remove(&self.lane);
    }
}

/// The name of lane `lane` (0-based) of the track `name`.
fn lane_name(name: &str, lane: u32) -> String {
    if lane == 0 { name.to_string() } else { format!("{name} lane {}", lane + 1) }
}

/// Whether the slices `a` and `b` (start, end in µs) nest or are disjoint, up to a rounding
/// error of a nanosecond.
fn nests(a: (f64, f64), b: (f64, f64)) -> bool {
    const EPS: f64 = 1e-3;
    a.1 <= b.0 + EPS || b.1 <= a.0 + EPS || (a.0 <= b.0 + EPS && b.1 <= a.1 + EPS) || (b.0 <= a.0 + EPS && a.1 <= b.1 + EPS)
}

/// A track (one `tid`) of a [`Trace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Track(pub u32);

impl Trace {
    /// A trace whose clock starts now, for the process named `process`.
    pub fn new(process: impl Into<String>) -> Self {
        Trace { process: process.into(), start: Instant::now(), inner: Mutex::new(Inner::default()) }
    }

    /// Takes the lowest free lane for the current thread until the guard is dropped: call it
    /// on a thread started to run work beside others (a `map` body, a fragment).
    pub fn lane(&self) -> Lane<'_> {
        let mut inner = self.inner.lock().unwrap();
        let lane = (1..).find(|l| !inner.busy_lanes.contains(l)).unwrap_or(u32::MAX);
        inner.busy_lanes.insert(lane);
        let previous = LANE.with(|l| l.replace(lane));
        Lane { trace: self, lane, previous }
    }

    /// The track of device (or activity) `name` on the current thread's lane, created on first
    /// use (tids 1, 2, … in order of creation).
    pub fn track(&self, name: &str) -> Track {
        self.named_track(&lane_name(name, LANE.with(Cell::get)))
    }

    /// The track called exactly `name`.
    fn named_track(&self, name: &str) -> Track {
        let mut inner = self.inner.lock().unwrap();
        Self::track_in(&mut inner, name)
    }

    fn track_in(inner: &mut Inner, name: &str) -> Track {
        if let Some(i) = inner.tracks.iter().position(|t| t == name) {
            return Track(i as u32 + 1);
        }
        inner.tracks.push(name.to_string());
        Track(inner.tracks.len() as u32)
    }

    fn micros(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.start).as_nanos() as f64 / 1000.0
    }

    /// Records a slice `name` on `track` from `start` to `end`, with category `cat` and
    /// string arguments (shown in the slice's details: e.g. the planned start and finish).
    pub fn slice(&self, track: Track, name: &str, cat: &str, start: Instant, end: Instant, args: &[(&str, String)]) {
        let ts = self.micros(start);
        let dur = (self.micros(end) - ts).max(0.0);
        let args: serde_json::Map<String, Value> =
            args.iter().map(|(k, v)| (k.to_string(), Value::String(v.clone()))).collect();
        let event = json!({"name": name, "cat": cat, "ph": "X", "ts": ts, "dur": dur,
                           "pid": 1, "tid": track.0, "args": args});
        self.inner.lock().unwrap().events.push(event);
    }

    /// Records, once per `key`, the slice the scheduler planned: `name` on the track named
    /// `track` from `start_s` to `finish_s` seconds after the trace began (category
    /// `planned`), so a planned track can be read against the actual one. Planned slices that
    /// would partially overlap go to further lanes of the track (`… lane 2`).
    pub fn planned(&self, track: &str, key: &str, name: &str, start_s: f64, finish_s: f64, args: &[(&str, String)]) {
        let mut inner = self.inner.lock().unwrap();
        if !inner.planned.insert(key.to_string()) {
            return;
        }
        let args: serde_json::Map<String, Value> =
            args.iter().map(|(k, v)| (k.to_string(), Value::String(v.clone()))).collect();
        let ts = (start_s * 1e6).max(0.0);
        let dur = ((finish_s - start_s) * 1e6).max(0.0);
        let span = (ts, ts + dur);
        let lanes = inner.planned_lanes.entry(track.to_string()).or_default();
        let lane = match lanes.iter().position(|slices| slices.iter().all(|&s| nests(s, span))) {
            Some(lane) => lane,
            None => {
                lanes.push(Vec::new());
                lanes.len() - 1
            }
        };
        lanes[lane].push(span);
        let track = Self::track_in(&mut inner, &lane_name(track, lane as u32));
        inner.events.push(json!({"name": name, "cat": "planned", "ph": "X", "ts": ts, "dur": dur,
                                 "pid": 1, "tid": track.0, "args": args}));
    }

    /// Starts a slice that is recorded when the returned guard is dropped.
    pub fn span<'t>(&'t self, track: Track, name: &str, cat: &str) -> Span<'t> {
        Span { trace: self, track, name: name.to_string(), cat: cat.to_string(), start: Instant::now(), args: Vec::new() }
    }

    /// The trace as a JSON value: metadata first, then the slices sorted by start time.
    pub fn to_json(&self) -> Value {
        let inner = self.inner.lock().unwrap();
        let mut events = vec![json!({"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
                                     "args": {"name": self.process}})];
        for (i, name) in inner.tracks.iter().enumerate() {
            let tid = i + 1;
            events.push(json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": tid, "args": {"name": name}}));
            events.push(json!({"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": tid,
                               "args": {"sort_index": tid}}));
        }
        let mut slices = inner.events.clone();
        slices.sort_by(|a, b| a["ts"].as_f64().partial_cmp(&b["ts"].as_f64()).unwrap_or(std::cmp::Ordering::Equal));
        events.extend(slices);
        json!({"traceEvents": events, "displayTimeUnit": "ms"})
    }

    /// Writes the trace to `path`: to `path`'s folder as a temporary file, then renamed over
    /// `path`. On error no file is left behind (the temporary one is removed).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec(&self.to_json()).map_err(std::io::Error::other)?;
        write_atomically(path, &text)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// `path` holds either its old content or all of `bytes`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| std::io::Error::other("the path has no file name"))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A slice in progress; recorded when dropped.
#[derive(Debug)]
pub struct Span<'t> {
    trace: &'t Trace,
    track: Track,
    name: String,
    cat: String,
    start: Instant,
    args: Vec<(String, String)>,
}

impl Span<'_> {
    /// Adds an argument to the slice.
    pub fn arg(&mut self, key: &str, value: impl Into<String>) {
        self.args.push((key.to_string(), value.into()));
    }
}

impl Drop for Span<'_> {
    fn drop(&mut self) {
        let args: Vec<(&str, String)> = self.args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.trace.slice(self.track, &self.name, &self.cat, self.start, Instant::now(), &args);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The process's CPU clock advances while this thread computes (within seconds even on
    /// a loaded machine) and never goes back.
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    #[test]
    fn process_cpu_time_advances_with_busy_work() {
        let before = process_cpu_seconds().expect("clock_gettime works on Linux");
        let started = Instant::now();
        let (mut x, mut last) = (0u64, before);
        while last - before < 0.02 && started.elapsed() < Duration::from_secs(20) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            let now = process_cpu_seconds().unwrap();
            assert!(now >= last, "the CPU clock went back: {last} then {now}");
            last = now;
        }
        assert!(last - before >= 0.02, "{} s of CPU in 20 s of computing", last - before);
    }

    /// Over windows of 2 ms in which this thread and a second one compute, the process's
    /// CPU clock grows by what the two threads' own clocks grow by: the other thread's time
    /// is booked up to each read, not caught up at a later scheduler tick (before
    /// [`process_cpu_seconds`] read each thread's clock first, such a window read anywhere
    /// from 0.2 to 3 cores busy on 2).
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    #[test]
    fn process_cpu_time_is_current_for_other_threads() {
        use std::os::unix::thread::JoinHandleExt;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        unsafe extern "C" {
            fn pthread_getcpuclockid(thread: std::os::unix::thread::RawPthread, clock: *mut i32) -> i32;
            fn pthread_self() -> std::os::unix::thread::RawPthread;
        }
        let clock_of = |thread| {
            let mut clock = 0;
            // SAFETY: `thread` is a live thread of this process; `clock` is writable.
            assert_eq!(unsafe { pthread_getcpuclockid(thread, &mut clock) }, 0);
            clock
        };
        let stop = Arc::new(AtomicBool::new(false));
        let spinner = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            })
        };
        // SAFETY: no arguments; returns the calling thread's handle.
        let clocks = [clock_of(spinner.as_pthread_t()), clock_of(unsafe { pthread_self() })];
        let threads = || clocks.iter().map(|&c| cpu_clock(c).unwrap()).sum::<f64>();
        std::thread::sleep(Duration::from_millis(10));
        // The process clock, then the threads' clocks (reading them books their time, so
        // they come second); a window whose reads were preempted (more than 50 µs apart)
        // is not compared.
        let read = || {
            let at = Instant::now();
            let (process, threads) = (process_cpu_seconds().unwrap(), threads());
            (process, threads, at.elapsed() < Duration::from_micros(50))
        };
        let (mut worst, mut compared) = (0.0f64, 0);
        for _ in 0..400 {
            let ((c0, t0, quick0), w0) = (read(), Instant::now());
            while w0.elapsed() < Duration::from_millis(2) {
                std::hint::spin_loop();
            }
            let (c1, t1, quick1) = read();
            if quick0 && quick1 {
                worst = worst.max(((c1 - c0) - (t1 - t0)).abs());
                compared += 1;
                if compared == 40 {
                    break;
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        spinner.join().unwrap();
        assert!(compared > 0, "every window's clock reads were preempted");
        assert!(worst < 1e-4, "over a 2 ms window the process clock and its threads' clocks grew {:.3} ms apart", worst * 1e3);
    }

    #[test]
    fn slices_tracks_and_metadata() {
        let trace = Trace::new("app");
        let cpu = trace.track("cpu");
        let gpu = trace.track("cuda:0");
        assert_eq!((cpu, gpu, trace.track("cpu")), (Track(1), Track(2), Track(1)));
        let t0 = trace.start + Duration::from_micros(10);
        trace.slice(gpu, "decode step 0", "decode", t0 + Duration::from_micros(50), t0 + Duration::from_micros(80), &[]);
        trace.slice(cpu, "prefill", "prefill", t0, t0 + Duration::from_micros(40), &[("planned_start_us", "0".into())]);
        {
            let mut s = trace.span(cpu, "tool search", "tool");
            s.arg("attempt", "1");
        }
        let v = trace.to_json();
        let events = v["traceEvents"].as_array().unwrap();
        assert_eq!(events[0]["name"], "process_name");
        assert_eq!(events[0]["args"]["name"], "app");
        assert_eq!(events[1], json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "cpu"}}));
        assert_eq!(events[3]["args"]["name"], "cuda:0");
        let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
        assert_eq!(slices.len(), 3);
        let ts: Vec<f64> = slices.iter().map(|e| e["ts"].as_f64().unwrap()).collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "sorted by start: {ts:?}");
        let by_name = |n: &str| *slices.iter().find(|e| e["name"] == n).unwrap();
        let prefill = by_name("prefill");
        assert_eq!((prefill["ts"].as_f64(), prefill["dur"].as_f64()), (Some(10.0), Some(40.0)));
        assert_eq!((prefill["tid"].as_u64(), prefill["cat"].as_str()), (Some(1), Some("prefill")));
        assert_eq!(prefill["args"]["planned_start_us"], "0");
        assert_eq!(by_name("decode step 0")["tid"], 2);
        assert_eq!(by_name("tool search")["args"]["attempt"], "1");
    }

    #[test]
    fn concurrent_threads_record_on_lanes_of_their_own() {
        let trace = Trace::new("app");
        let t0 = trace.start;
        let at = |us: u64| t0 + Duration::from_micros(us);
        let both_hold_a_lane = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            for k in 0..2u64 {
                let (trace, barrier) = (&trace, &both_hold_a_lane);
                scope.spawn(move || {
                    let _lane = trace.lane();
                    barrier.wait();
                    trace.slice(trace.track("cpu"), "body", "fragment", at(10 + k), at(100 + k), &[]);
                });
            }
        });
        trace.slice(trace.track("cpu"), "after", "fragment", at(200), at(210), &[]);
        let v = trace.to_json();
        let events = v["traceEvents"].as_array().unwrap();
        let names: Vec<&str> = events.iter().filter(|e| e["name"] == "thread_name").map(|e| e["args"]["name"].as_str().unwrap()).collect();
        let mut lanes = names.clone();
        lanes.sort();
        assert_eq!(lanes, ["cpu", "cpu lane 2", "cpu lane 3"], "the two bodies overlapped, so they held two lanes");
        let tids: BTreeSet<u64> = events.iter().filter(|e| e["name"] == "body").map(|e| e["tid"].as_u64().unwrap()).collect();
        assert_eq!(tids.len(), 2, "overlapping slices on different tracks");
        // Lanes are given back: a later thread takes the lowest free one again.
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let _lane = trace.lane();
                trace.slice(trace.track("cpu"), "later", "fragment", at(300), at(310), &[]);
            });
        });
        let v = trace.to_json();
        let later = v["traceEvents"].as_array().unwrap().iter().find(|e| e["name"] == "later").unwrap().clone();
        let lane2 = v["traceEvents"].as_array().unwrap().iter().find(|e| e["args"]["name"] == "cpu lane 2").unwrap()["tid"].clone();
        assert_eq!(later["tid"], lane2);
    }

    #[test]
    fn overlapping_planned_slices_go_to_further_lanes() {
        let trace = Trace::new("app");
        trace.planned("cpu (planned)", "a", "a", 0.0, 2.0, &[]);
        trace.planned("cpu (planned)", "b", "b", 0.5, 1.0, &[]);
        trace.planned("cpu (planned)", "c", "c", 1.5, 3.0, &[]);
        trace.planned("cpu (planned)", "c", "c", 1.5, 3.0, &[]);
        let v = trace.to_json();
        let events = v["traceEvents"].as_array().unwrap();
        let tid = |n: &str| events.iter().find(|e| e["name"] == n && e["ph"] == "X").unwrap()["tid"].as_u64().unwrap();
        assert_eq!(tid("a"), tid("b"), "b nests in a");
        assert_ne!(tid("a"), tid("c"), "c partially overlaps a");
        assert_eq!(events.iter().filter(|e| e["ph"] == "X").count(), 3);
    }

    #[test]
    fn written_through_a_temporary_file() {
        let dir = std::env::temp_dir().join(format!("agentc-trace-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("trace.json");
        let trace = Trace::new("app");
        let t = trace.track("cpu");
        trace.slice(t, "x", "host", Instant::now(), Instant::now(), &[]);
        trace.write(&path).unwrap();
        let back: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back["traceEvents"].as_array().unwrap().len(), 4);
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["trace.json"]);
        assert!(trace.write(&dir.join("no/such/dir/t.json")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
