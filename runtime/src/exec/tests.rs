//! Interpreter tests: built-ins through the interpreter, control flow, `map` order,
//! parallelism and cancellation, run-time errors with their locations, tools through a
//! local program and a 127.0.0.1 server, and the model-fragment error. Plans are built
//! with a small builder and validated by the loader first.

use std::cell::Cell;
use std::io::{Read, Write};
use std::rc::Rc;

use serde_json::{Value as Json, json};

use super::*;
use crate::plan::{load, validate};

/// Builds one body; ids come from a counter shared by the function's bodies.
struct B {
    ids: Rc<Cell<u32>>,
    ops: Vec<Json>,
}

impl B {
    fn new(ids: &Rc<Cell<u32>>) -> B {
        B { ids: ids.clone(), ops: Vec::new() }
    }

    fn id(&self) -> u32 {
        let id = self.ids.get();
        self.ids.set(id + 1);
        id
    }

    /// A region's parameter (or a function's).
    fn param(&self, ty: &str) -> (u32, Json) {
        let id = self.id();
        (id, json!({"id": id, "type": ty}))
    }

    fn full(&mut self, op: &str, operands: &[u32], types: &[&str], attrs: Json, regions: Vec<Json>, extra: Json) -> Vec<u32> {
        let ids: Vec<u32> = types.iter().map(|_| self.id()).collect();
        let mut o = json!({"op": op, "operands": operands, "attrs": attrs, "loc": format!("t.agent:{}:1", self.ops.len() + 1)});
        o["results"] = ids.iter().zip(types).map(|(id, ty)| json!({"id": id, "type": ty})).collect();
        if !regions.is_empty() {
            o["regions"] = Json::Array(regions);
        }
        if let Json::Object(extra) = extra {
            for (k, v) in extra {
                o[k] = v;
            }
        }
        self.ops.push(o);
        ids
    }

    fn op(&mut self, op: &str, operands: &[u32], ty: &str, attrs: Json) -> u32 {
        self.full(op, operands, &[ty], attrs, vec![], json!(null))[0]
    }

    fn text(&mut self, value: &str) -> u32 {
        self.op("const", &[], "text", json!({"value": value}))
    }

    fn int(&mut self, value: i64) -> u32 {
        self.op("const", &[], "int", json!({"value": value}))
    }

    fn end(mut self, terminator: &str, operands: &[u32]) -> Vec<Json> {
        self.ops.push(json!({"op": terminator, "operands": operands}));
        self.ops
    }
}

fn function(name: &str, kind: &str, params: Vec<Json>, results: &[&str], body: Vec<Json>) -> Json {
    json!({"name": name, "kind": kind, "params": params, "results": results, "loc": format!("t.agent:1:1"), "body": body})
}

fn plan(functions: Vec<Json>) -> Plan {
    let text = json!({"format": "agentc-plan", "format_version": crate::plan::FORMAT_VERSION, "source": "t.agent",
        "models": [{"name": "llm", "path": "m", "kind": "decoder", "hidden_size": 0}],
        "functions": functions})
    .to_string();
    match load(&text) {
        Ok(plan) => plan,
        Err(e) => panic!("invalid test plan: {e}\n{text}"),
    }
}

/// `main(args) -> text` whose body `build` writes (given the args' id); returns what it gives.
fn main_plan(extra: Vec<Json>, build: impl FnOnce(&mut B, u32) -> u32) -> Plan {
    let ids = Rc::new(Cell::new(0));
    let mut b = B::new(&ids);
    let (args, param) = b.param("list<text>");
    let result = build(&mut b, args);
    let mut functions = extra;
    functions.push(function("main", "agent", vec![param], &["text"], b.end("return", &[result])));
    plan(functions)
}

fn run(plan: &Plan, args: &[&str]) -> Result<String, RunError> {
    run_with(plan, args, 0)
}

fn run_with(plan: &Plan, args: &[&str], max_parallel: usize) -> Result<String, RunError> {
    validate(plan).expect("valid");
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run_main(plan, &args, &Options { max_parallel, ..Options::default() }).map(|v| v.to_text())
}

/// An exec tool `name(t: text) -> text` running `sh -c SCRIPT name t` (the argument is `$1`).
fn sh_tool(name: &str, script: &str, retries: u64) -> Json {
    let ids = Rc::new(Cell::new(0));
    let mut b = B::new(&ids);
    let (t, param) = b.param("text");
    let c = b.text("-c");
    let s = b.text(script);
    let n = b.text(name);
    let argv = b.op("list_literal", &[c, s, n, t], "list<text>", json!({}));
    let out = b.op("exec", &[argv], "text", json!({"program": "sh", "retries": retries, "timeout_ms": 10000}));
    function(name, "tool", vec![param], &["text"], b.end("return", &[out]))
}

/// `map a in args { tool(a) }` joined with `,`.
fn map_tool(b: &mut B, args: u32, tool: &str) -> u32 {
    map_tool_with(b, args, tool, json!({}))
}

/// [`map_tool`] with the map op's `attrs` (e.g. its own `max_parallel`).
fn map_tool_with(b: &mut B, args: u32, tool: &str, attrs: serde_json::Value) -> u32 {
    let n = b.op("list_len", &[args], "int", json!({}));
    let empty = b.op("list_literal", &[], "list<text>", json!({}));
    let zero = b.int(0);
    let one = b.int(1);
    let mut body = B::new(&b.ids);
    let (i, pi) = body.param("int");
    let (acc, pacc) = body.param("list<text>");
    let a = body.op("list_get", &[args, i], "text", json!({}));
    let r = body.full("tool", &[a], &["text"], json!({"callee": tool}), vec![], json!({"placement": {"device": "cpu", "start": 0.0, "finish": 0.5}}))[0];
    let appended = body.op("list_append", &[acc, r], "list<text>", json!({}));
    let region = json!({"params": [pi, pacc], "body": body.end("yield", &[appended])});
    let mapped = b.full("map", &[zero, n, one, empty], &["list<text>"], attrs, vec![region], json!(null))[0];
    let sep = b.text(",");
    b.op("join", &[mapped, sep], "text", json!({}))
}

#[test]
fn text_builtins_run_through_the_interpreter() {
    let p = main_plan(vec![], |b, args| {
        let zero = b.int(0);
        let first = b.op("list_get", &[args, zero], "text", json!({}));
        let trimmed = b.op("trim", &[first], "text", json!({}));
        let space = b.text(" ");
        let words = b.op("split", &[trimmed, space], "list<text>", json!({}));
        let dash = b.text("-");
        let joined = b.op("join", &[words, dash], "text", json!({}));
        let len = b.op("text_len", &[joined], "int", json!({}));
        let len_text = b.op("to_text", &[len], "text", json!({}));
        let n = b.op("parse_int", &[len_text], "int", json!({}));
        let f = b.op("convert", &[n], "float", json!({}));
        let half = b.op("const", &[], "float", json!({"value": 0.5}));
        let scaled = b.op("mul", &[f, half], "float", json!({}));
        let has = b.op("contains", &[joined, dash], "bool", json!({}));
        let [n, scaled, has] = [n, scaled, has].map(|v| b.op("to_text", &[v], "text", json!({})));
        let fmt = b.text("{}|{}|{}|{}");
        b.op("format", &[fmt, joined, n, scaled, has], "text", json!({}))
    });
    assert_eq!(run(&p, &["  a b c  "]).unwrap(), "a-b-c|5|2.5|true");
}

#[test]
fn if_loop_and_for_compute_as_written() {
    // sum = 0; i = 0; loop { if i >= n break; sum += i; i += 1 }; then for j in 0..3 { sum += 1 }
    let p = main_plan(vec![], |b, args| {
        let n = b.op("list_len", &[args], "int", json!({}));
        let zero = b.int(0);
        let one = b.int(1);
        let mut before = B::new(&b.ids);
        let (i, pi) = before.param("int");
        let (s, ps) = before.param("int");
        let go = before.op("cmp", &[i, n], "bool", json!({"predicate": "lt"}));
        let before = json!({"params": [pi, ps], "body": before.end("condition", &[go, i, s])});
        let mut after = B::new(&b.ids);
        let (i2, pi2) = after.param("int");
        let (s2, ps2) = after.param("int");
        let s3 = after.op("add", &[s2, i2], "int", json!({}));
        let i3 = after.op("add", &[i2, one], "int", json!({}));
        let after = json!({"params": [pi2, ps2], "body": after.end("yield", &[i3, s3])});
        let r = b.full("loop", &[zero, zero], &["int", "int"], json!({"max_iterations": 100}), vec![before, after], json!(null));
        let three = b.int(3);
        let mut body = B::new(&b.ids);
        let (_j, pj) = body.param("int");
        let (acc, pacc) = body.param("int");
        let acc2 = body.op("add", &[acc, one], "int", json!({}));
        let region = json!({"params": [pj, pacc], "body": body.end("yield", &[acc2])});
        let total = b.full("for", &[zero, three, one, r[1]], &["int"], json!({}), vec![region], json!(null))[0];
        let big = b.op("cmp", &[total, three], "bool", json!({"predicate": "gt"}));
        let mut then = B::new(&b.ids);
        let t = then.op("to_text", &[total], "text", json!({}));
        let mut other = B::new(&b.ids);
        let o = other.text("small");
        b.full("if", &[big], &["text"], json!({}), vec![json!({"body": then.end("yield", &[t])}), json!({"body": other.end("yield", &[o])})], json!(null))[0]
    });
    assert_eq!(run(&p, &["a", "b", "c", "d"]).unwrap(), "9"); // 0+1+2+3 + 3
    assert_eq!(run(&p, &[]).unwrap(), "small");
}

fn error_of(build: impl FnOnce(&mut B, u32) -> u32, args: &[&str]) -> RunError {
    run(&main_plan(vec![], build), args).unwrap_err()
}

#[test]
fn run_time_errors_name_the_op_location() {
    let e = error_of(|b, _| {
        let max = b.int(i64::MAX);
        let one = b.int(1);
        let s = b.op("add", &[max, one], "int", json!({}));
        b.op("to_text", &[s], "text", json!({}))
    }, &[]);
    assert_eq!(e.to_string(), "t.agent:3:1: integer overflow: 9223372036854775807 + 1");

    let e = error_of(|b, _| {
        let one = b.int(1);
        let zero = b.int(0);
        let s = b.op("div", &[one, zero], "int", json!({}));
        b.op("to_text", &[s], "text", json!({}))
    }, &[]);
    assert_eq!(e.to_string(), "t.agent:3:1: division by zero: 1 / 0");

    let e = error_of(|b, args| {
        let five = b.int(5);
        b.op("list_get", &[args, five], "text", json!({}))
    }, &["a"]);
    assert_eq!(e.to_string(), "t.agent:2:1: index 5 out of range for a list of length 1");

    let e = error_of(|b, _| {
        let x = b.text("x");
        let n = b.op("parse_int", &[x], "int", json!({}));
        b.op("to_text", &[n], "text", json!({}))
    }, &[]);
    assert_eq!(e.to_string(), "t.agent:2:1: `x` is not an integer");

    let e = error_of(|b, _| {
        let empty = b.op("list_literal", &[], "list<float>", json!({}));
        let n = b.op("argmax", &[empty], "int", json!({}));
        b.op("to_text", &[n], "text", json!({}))
    }, &[]);
    assert_eq!(e.to_string(), "t.agent:2:1: argmax of an empty list");

    let e = error_of(|b, _| {
        let nan = b.op("const", &[], "float", json!({"value": 1e300}));
        let n = b.op("convert", &[nan], "int", json!({}));
        b.op("to_text", &[n], "text", json!({}))
    }, &[]);
    assert!(e.to_string().starts_with("t.agent:2:1: cannot convert 1e300 to an integer"), "{e}");
}

#[test]
fn model_fragments_need_compiled_kernels() {
    let e = error_of(|b, args| {
        let sep = b.text(" ");
        let prompt = b.op("join", &[args, sep], "text", json!({}));
        let kv = b.full("prefill", &[prompt], &["kv"], json!({"model": "llm"}), vec![], json!({"placement": {"device": "gpu0"}}))[0];
        let stop = b.op("list_literal", &[], "list<text>", json!({}));
        b.op("decode", &[kv, stop], "text", json!({"model": "llm", "max_tokens": 4, "temperature": 0.0}))
    }, &["hi"]);
    assert_eq!(e.to_string(), format!("t.agent:3:1: `prefill` of model `llm`: {NEEDS_KERNELS}"));
}

#[test]
fn exec_tool_gets_argv_and_stdin_exactly() {
    let ids = Rc::new(Cell::new(0));
    let mut b = B::new(&ids);
    let (t, param) = b.param("text");
    let lower = b.text("a-z");
    let upper = b.text("A-Z");
    let argv = b.op("list_literal", &[lower, upper], "list<text>", json!({}));
    let out = b.op("exec", &[argv, t], "text", json!({"program": "tr", "retries": 0, "timeout_ms": 5000}));
    let shout = function("shout", "tool", vec![param], &["text"], b.end("return", &[out]));
    let p = main_plan(vec![shout], |b, args| map_tool(b, args, "shout"));
    assert_eq!(run(&p, &["a b", "c;$(x)"]).unwrap(), "A B,C;$(X)");
}

/// A fresh, empty scratch folder for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("agentc-exec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn map_keeps_input_order_and_runs_in_parallel() {
    // Each body marks that it started, then waits (bounded) until all four have: they can
    // only all see 4 if they ran at the same time. No wall time is asserted.
    let dir = scratch("parallel");
    let script = format!(
        "touch {d}/$1; i=0; while [ $(ls {d} | wc -l) -lt 4 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; printf '%s:%s!' \"$1\" $(ls {d} | wc -l)",
        d = dir.display()
    );
    let p = main_plan(vec![sh_tool("meet", &script, 0)], |b, args| map_tool(b, args, "meet"));
    assert_eq!(run_with(&p, &["a", "b", "c", "d"], 4).unwrap(), "a:4!,b:4!,c:4!,d:4!");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_maps_own_max_parallel_overrides_the_runs() {
    // The run allows one body at a time, the map's own `max_parallel` six: all six bodies
    // meet (each sees 6) although the run's cap is 1.
    let dir = scratch("own-cap");
    let script = format!(
        "touch {d}/$1; i=0; while [ $(ls {d} | wc -l) -lt 6 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; printf '%s:%s!' \"$1\" $(ls {d} | wc -l)",
        d = dir.display()
    );
    let p = main_plan(vec![sh_tool("meet", &script, 0)], |b, args| map_tool_with(b, args, "meet", json!({"max_parallel": 6})));
    assert_eq!(run_with(&p, &["a", "b", "c", "d", "e", "f"], 1).unwrap(), "a:6!,b:6!,c:6!,d:6!,e:6!,f:6!");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn map_runs_at_most_max_parallel_bodies() {
    // With a cap of 1, no two bodies may hold the lock folder at once; results keep the
    // input order although later bodies are quicker.
    let dir = scratch("cap");
    let script = format!(
        "if mkdir {d}/lock 2>/dev/null; then case \"$1\" in a) sleep 0.3;; *) sleep 0.05;; esac; rmdir {d}/lock; printf '%s' \"$1\"; else printf 'overlap'; fi",
        d = dir.display()
    );
    let p = main_plan(vec![sh_tool("one", &script, 0)], |b, args| map_tool(b, args, "one"));
    assert_eq!(run_with(&p, &["a", "b", "c", "d"], 1).unwrap(), "a,b,c,d");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn first_map_failure_cancels_siblings_and_kills_their_tools() {
    // Siblings would write a file after 20 s; cancelled (killed) ones never do.
    let dir = scratch("cancel");
    let script = format!(
        "if [ \"$1\" = bad ]; then sleep 0.2; echo broken >&2; exit 3; fi; sleep 20; touch {d}/$1.finished; echo done",
        d = dir.display()
    );
    let p = main_plan(vec![sh_tool("job", &script, 1)], |b, args| map_tool(b, args, "job"));
    let e = run_with(&p, &["slow1", "bad", "slow2", "slow3", "slow4"], 3).unwrap_err();
    assert_eq!(e.loc, "t.agent:2:1");
    assert_eq!(e.message, "tool `job` failed (attempt 2 of 2): exited with status 3; stderr: broken");
    let finished: Vec<_> = std::fs::read_dir(&dir).expect("scratch").collect();
    assert!(finished.is_empty(), "siblings ran to completion: {finished:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn agents_not_inlined_are_called() {
    let ids = Rc::new(Cell::new(0));
    let mut b = B::new(&ids);
    let (t, param) = b.param("text");
    let bang = b.text("!");
    let out = b.op("concat", &[t, bang], "text", json!({}));
    let helper = function("helper", "agent", vec![param], &["text"], b.end("return", &[out]));
    let p = main_plan(vec![helper], |b, args| {
        let zero = b.int(0);
        let a = b.op("list_get", &[args, zero], "text", json!({}));
        b.op("call", &[a], "text", json!({"callee": "helper"}))
    });
    assert_eq!(run(&p, &["hey"]).unwrap(), "hey!");
}

#[test]
fn http_tool_calls_a_local_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        let request = String::from_utf8_lossy(&buf[..n]).to_string();
        let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
        let body = format!("got {path}");
        write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    });
    let ids = Rc::new(Cell::new(0));
    let mut b = B::new(&ids);
    let (q, param) = b.param("text");
    let url = b.op("url_template", &[q], "text", json!({"names": ["q"], "template": format!("http://127.0.0.1:{port}/s?q={{q}}")}));
    let out = b.op("http", &[url], "text", json!({"method": "get", "retries": 0, "timeout_ms": 5000}));
    let fetch = function("fetch", "tool", vec![param], &["text"], b.end("return", &[out]));
    let p = main_plan(vec![fetch], |b, args| map_tool(b, args, "fetch"));
    assert_eq!(run(&p, &["a b/c"]).unwrap(), "got /s?q=a%20b%2Fc");
    server.join().unwrap();
}

#[test]
fn fragments_are_traced_on_their_device_track() {
    let tool = sh_tool("hi", "printf 'hi %s' \"$1\"", 0);
    let p = main_plan(vec![tool], |b, args| map_tool(b, args, "hi"));
    let trace = Trace::new("t");
    let args = vec!["x".to_string(), "y".to_string()];
    let out = run_main(&p, &args, &Options { max_parallel: 2, trace: Some(&trace), ..Options::default() }).unwrap();
    assert_eq!(out.to_text(), "hi x,hi y");
    let json = trace.to_json();
    let events = json["traceEvents"].as_array().unwrap();
    let slices: Vec<&Json> = events.iter().filter(|e| e["ph"] == "X" && e["cat"] == "fragment").collect();
    assert_eq!(slices.len(), 2);
    assert!(slices.iter().all(|s| s["name"] == "tool hi" && s["args"]["planned_finish_s"] == "0.500000"));
    assert!(events.iter().any(|e| e["name"] == "thread_name" && e["args"]["name"] == "cpu"));
    // The process's CPU time over each slice and its threads' polling, in seconds (64-bit
    // Linux: docs/runtime.md, "Trace").
    if cfg!(all(target_os = "linux", target_pointer_width = "64")) {
        for s in &slices {
            let seconds = |key: &str| s["args"][key].as_str().and_then(|v| v.parse::<f64>().ok());
            let (cpu, spin) = (seconds("cpu_s"), seconds("spin_s"));
            assert!(cpu.is_some_and(|c| c >= 0.0) && spin.is_some_and(|p| p >= 0.0), "{s}");
        }
    }
    // The schedule, once per planned fragment, on the device's planned track.
    let planned: Vec<&Json> = events.iter().filter(|e| e["cat"] == "planned").collect();
    assert_eq!(planned.len(), 1);
    assert_eq!((planned[0]["ts"].as_f64(), planned[0]["dur"].as_f64()), (Some(0.0), Some(500_000.0)));
    assert!(events.iter().any(|e| e["name"] == "thread_name" && e["args"]["name"] == "cpu (planned)"));
}

#[test]
fn map_over_nothing_gives_the_initial_list() {
    let tool = sh_tool("never", "exit 1", 0);
    let p = main_plan(vec![tool], |b, args| map_tool(b, args, "never"));
    assert_eq!(run(&p, &[]).unwrap(), "");
}

#[test]
fn conversions_and_float_comparisons_follow_the_plan() {
    let p = main_plan(vec![], |b, _| {
        let f = b.op("const", &[], "float", json!({"value": -2.75}));
        let i = b.op("convert", &[f], "int", json!({}));
        let t = b.op("const", &[], "bool", json!({"value": true}));
        let ti = b.op("convert", &[t], "int", json!({}));
        let back = b.op("convert", &[i], "float", json!({}));
        let nan = b.op("const", &[], "text", json!({"value": "NaN"}));
        let nan = b.op("parse_float", &[nan], "float", json!({}));
        let ne = b.op("cmp", &[nan, nan], "bool", json!({"predicate": "ne"}));
        let eq = b.op("cmp", &[nan, nan], "bool", json!({"predicate": "eq"}));
        let seven = b.int(7);
        let minus_two = b.int(-2);
        let q = b.op("div", &[seven, minus_two], "int", json!({}));
        let r = b.op("rem", &[seven, minus_two], "int", json!({}));
        let parts = [i, ti, back, ne, eq, q, r].map(|v| b.op("to_text", &[v], "text", json!({})));
        let list = b.op("list_literal", &parts, "list<text>", json!({}));
        let sep = b.text(" ");
        b.op("join", &[list, sep], "text", json!({}))
    });
    assert_eq!(run(&p, &[]).unwrap(), "-2 1 -2.0 true false -3 1");
}

// ---- compiled fragments and the dataflow order, with kernels written in Rust ----

use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize as Counter, Ordering as AtomicOrdering};

use crate::kernels::{Kernel, KernelTable, PackedFn};
use crate::models::Models;
use crate::pool::ThreadPool;

/// The 0-d f32 a descriptor points to.
unsafe fn scalar(arg: *mut std::ffi::c_void) -> *mut f32 {
    unsafe { *(arg as *const *mut f32).add(1) }
}

static ORDER: StdMutex<Vec<f32>> = StdMutex::new(Vec::new());

/// `out = x`, recording the order calls arrive in.
unsafe extern "C" fn record_order(args: *mut *mut std::ffi::c_void, _workgroup: i64) {
    unsafe {
        let x = *scalar(*args);
        ORDER.lock().unwrap().push(x);
        *scalar(*args.add(1)) = x;
    }
}

static STARTED: Counter = Counter::new(0);

/// `out = the number of calls started when this one saw 2 (or gave up after 5 s)`: two
/// calls both give 2 only if they ran at the same time.
unsafe extern "C" fn meet(args: *mut *mut std::ffi::c_void, _workgroup: i64) {
    STARTED.fetch_add(1, AtomicOrdering::SeqCst);
    for _ in 0..500 {
        if STARTED.load(AtomicOrdering::SeqCst) >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    unsafe { *scalar(*args.add(1)) = STARTED.load(AtomicOrdering::SeqCst) as f32 };
}

/// main: two independent `compute probe(x)` fragments, the first in program order planned
/// to start later; returns "a,b".
fn two_computes() -> Plan {
    let ids = Rc::new(Cell::new(0));
    let mut b = B::new(&ids);
    let (_, param) = b.param("list<text>");
    let one = b.op("const", &[], "f32", json!({"value": 1.0}));
    let two = b.op("const", &[], "f32", json!({"value": 2.0}));
    let late = b.full("compute", &[one], &["f32"], json!({"callee": "probe"}), vec![], json!({"placement": {"device": "cpu", "start": 0.5, "finish": 0.6}}))[0];
    let early = b.full("compute", &[two], &["f32"], json!({"callee": "probe"}), vec![], json!({"placement": {"device": "cpu", "start": 0.1, "finish": 0.2}}))[0];
    let a = b.op("to_text", &[late], "text", json!({}));
    let c = b.op("to_text", &[early], "text", json!({}));
    let comma = b.text(",");
    let ac = b.op("concat", &[a, comma], "text", json!({}));
    let result = b.op("concat", &[ac, c], "text", json!({}));
    let main = function("main", "agent", vec![param], &["text"], b.end("return", &[result]));
    let text = json!({"format": "agentc-plan", "format_version": crate::plan::FORMAT_VERSION, "source": "t.agent",
        "target": {"name": "host", "objective": "latency", "devices": [{"name": "cpu", "kind": "cpu"}]},
        "fns": [{"name": "probe", "params": ["f32"], "results": ["f32"]}],
        "functions": [main]})
    .to_string();
    load(&text).unwrap_or_else(|e| panic!("invalid test plan: {e}\n{text}"))
}

fn run_compiled(plan: &Plan, kernel: PackedFn, max_parallel: usize) -> String {
    let kernels = KernelTable::new([Kernel { name: "probe".into(), packed: kernel, weights: vec![], num_args: 2, grid: 1 }]);
    let compiled = Compiled { kernels, models: Models::default(), pool: ThreadPool::new(1), gpu: None };
    let options = Options { max_parallel, compiled: Some(&compiled), ..Options::default() };
    run_main(plan, &[], &options).unwrap().to_text()
}

#[test]
fn ready_fragments_start_in_the_schedulers_priority_order() {
    // One thread: the fragment planned to start first runs first, though it comes second.
    assert_eq!(run_compiled(&two_computes(), record_order, 1), "1.0,2.0");
    assert_eq!(*ORDER.lock().unwrap(), [2.0, 1.0]);
}

#[test]
fn independent_fragments_run_at_the_same_time() {
    assert_eq!(run_compiled(&two_computes(), meet, 2), "2.0,2.0");
}

#[test]
fn tool_calls_keep_program_order() {
    // Two independent calls of a tool that appends to a file: effects are never reordered,
    // even with threads to spare.
    let dir = scratch("effects");
    let log = dir.join("log");
    let script = format!("sleep 0.$((3 - ${{#1}})); printf '%s' \"$1\" >> {}; cat {}", log.display(), log.display());
    let p = main_plan(vec![sh_tool("note", &script, 0)], |b, _| {
        let first = b.text("a");
        let second = b.text("bb");
        let x = b.op("tool", &[first], "text", json!({"callee": "note"}));
        let y = b.op("tool", &[second], "text", json!({"callee": "note"}));
        b.op("concat", &[x, y], "text", json!({}))
    });
    assert_eq!(run_with(&p, &[], 4).unwrap(), "aabb");
    let _ = std::fs::remove_dir_all(&dir);
}
