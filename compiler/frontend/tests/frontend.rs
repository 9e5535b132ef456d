//! Front-end integration tests: the language example, one test per diagnostic kind (message
//! and caret position), and robustness against malformed and randomized input.

use std::path::PathBuf;

use agentc_frontend::diagnostic::{Diagnostic, Severity, line_col, render};
use agentc_frontend::{CheckMode, CheckOptions, Checked, check_bytes, check_source};

const EXAMPLE: &str = include_str!("data/research.agent");

fn options(mode: CheckMode) -> CheckOptions {
    CheckOptions { mode, base_dir: PathBuf::from("/nonexistent-agentc-test-dir") }
}

/// Runs `f` on a thread with an 8 MB stack, so a stack overflow fails the test.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

#[test]
fn example_checks_with_two_model_warnings() {
    let checked = check_source(EXAMPLE, &options(CheckMode::Check));
    let rendered = render(&checked.diagnostics, "research.agent", EXAMPLE);
    assert!(checked.module.is_some(), "{rendered}");
    assert_eq!(checked.diagnostics.len(), 2, "{rendered}");
    assert!(checked.diagnostics.iter().all(|d| d.severity == Severity::Warning));
    assert_eq!(checked.diagnostics[0].message, "model folder `models/tiny-llama` not found");
    assert_eq!(checked.diagnostics[1].message, "model folder `models/minilm` not found");
    let module = checked.module.unwrap();
    assert_eq!(module.agents.len(), 2);
    assert_eq!(module.agents[0].sla_ms, Some(3000));
}

/// The first error of `source`, with its rendering; asserts the caret's line:column.
fn first_error(source: &str, mode: CheckMode, base_dir: Option<PathBuf>) -> (Diagnostic, String) {
    error_like(source, mode, base_dir, "")
}

/// The first error whose message is `message` (or the first error at all).
fn error_like(source: &str, mode: CheckMode, base_dir: Option<PathBuf>, message: &str) -> (Diagnostic, String) {
    let mut opts = options(mode);
    if let Some(dir) = base_dir {
        opts.base_dir = dir;
    }
    let checked = check_source(source, &opts);
    let rendered = render(&checked.diagnostics, "t.agent", source);
    assert!(checked.module.is_none(), "expected an error:\n{rendered}");
    let errors = checked.diagnostics.iter().filter(|d| d.is_error());
    let error = errors.clone().find(|d| d.message == message).or(errors.clone().next()).expect("an error").clone();
    (error, rendered)
}

/// Asserts the first error's message and that the rendered caret is at `line:col`.
fn assert_error(source: &str, message: &str, at: (usize, usize)) -> String {
    assert_error_in(source, CheckMode::Check, None, message, at)
}

fn assert_error_in(source: &str, mode: CheckMode, dir: Option<PathBuf>, message: &str, at: (usize, usize)) -> String {
    let (error, rendered) = error_like(source, mode, dir, message);
    assert_eq!(error.message, message, "{rendered}");
    let span = error.primary_span().expect("span");
    assert_eq!(line_col(source, span.start as usize), at, "{rendered}");
    assert!(rendered.contains(&format!("error: {message}")), "{rendered}");
    let single = render(std::slice::from_ref(&error), "t.agent", source);
    assert!(single.contains(&format!("t.agent:{}:{}", at.0, at.1)), "{single}");
    rendered
}

const PRELUDE: &str = "tool search(query: text) -> text = exec(\"python3\", [\"s.py\"], stdin: query)\n";

#[test]
fn unknown_name_with_suggestion() {
    let src = format!("{PRELUDE}agent a(q: text) -> text {{\n    serch(q)\n}}\n");
    let rendered = assert_error(&src, "unknown name `serch`", (3, 5));
    assert!(rendered.contains("help: did you mean `search`?"), "{rendered}");
    assert_error("agent a(q: text) -> text {\n    qq + zz\n}", "unknown name `qq`", (2, 5));
}

#[test]
fn wrong_arity() {
    let src = format!("{PRELUDE}agent a(q: text) -> text {{\n    search(q, q)\n}}\n");
    assert_error(&src, "`search` takes 1 argument but 2 were given", (3, 5));
}

#[test]
fn wrong_type() {
    let src = format!("{PRELUDE}agent a(q: text) -> text {{\n    search(42)\n}}\n");
    let rendered = assert_error(&src, "mismatched types: expected `text`, found `int`", (3, 12));
    assert!(rendered.contains("^^"), "{rendered}");
    assert_error("agent a() -> text {\n    let x: text = 1 + 2\n}", "mismatched types: expected `text`, found `int`", (2, 19));
}

#[test]
fn unknown_named_argument() {
    let src = format!("{PRELUDE}agent a(q: text) -> text {{\n    search(qurey: q)\n}}\n");
    let rendered = assert_error(&src, "unknown argument `qurey` of `search`", (3, 12));
    assert!(rendered.contains("the parameters are `query`"), "{rendered}");
}

#[test]
fn duplicate_declarations() {
    let rendered = assert_error(
        "agent a() -> int { 1 }\nagent a() -> int { 2 }",
        "duplicate declaration of `a`",
        (2, 7),
    );
    assert!(rendered.contains("first declared here"), "{rendered}");
    assert_error("agent len() -> int { 1 }", "duplicate declaration of `len`", (1, 7));
    assert_error("agent a() -> int {\n    let x = 1\n    let x = 2\n    x\n}", "duplicate declaration of `x`", (3, 9));
    // Shadowing in a nested scope is fine.
    let ok = check_source(
        "agent a(c: bool) -> int {\n    let x = 1\n    if c { let x = 2\n x } else { x }\n}",
        &options(CheckMode::Check),
    );
    assert!(ok.module.is_some(), "{:?}", ok.diagnostics);
}

#[test]
fn recursion_between_agents() {
    assert_error(
        "agent a() -> int { b() }\nagent b() -> int { a() }",
        "recursion between agents: `a` → `b` → `a`",
        (2, 20),
    );
    assert_error("agent a() -> int { a() }", "recursion between agents: `a` → `a`", (1, 20));
    assert_error(
        "fn f(x: f32) -> f32 { f(x) }",
        "recursion between fns: `f` → `f`",
        (1, 23),
    );
}

#[test]
fn break_outside_loop_and_map_rules() {
    assert_error("agent a() -> int {\n    break\n    1\n}", "`break` outside of a loop", (2, 5));
    let map = |body: &str| format!("agent a(xs: list<text>) -> list<text> {{\n    let y = \"\"\n    loop (max: 2) {{\n        let r = map x in xs {{ {body} }}\n    }}\n    map x in xs {{ x }}\n}}");
    assert_error(&map("return x"), "`return` is not allowed inside a map body", (4, 31));
    assert_error(&map("break"), "`break` is not allowed inside a map body", (4, 31));
    assert_error(
        &map("y = x\n x"),
        "assignment to outer variable `y` is not allowed inside a map body",
        (4, 31),
    );
    assert_error(
        "agent a(c: bool) -> int {\n    return 1\n    2\n}",
        "unreachable code after `return`",
        (3, 5),
    );
    assert_error(
        "agent a(c: bool) -> int {\n    let x = if c {\n        if c { return 1 }\n        5\n    } else { 2 }\n    x\n}",
        "`return` inside an `if` that gives a value is not supported",
        (3, 16),
    );
    assert_error("agent a(p: int) -> int {\n    p = 2\n    p\n}", "cannot assign to parameter `p`", (2, 5));
}

#[test]
fn if_without_else_has_no_value() {
    assert_error("agent a(c: bool) -> int {\n    let x = if c { 1 }\n    2\n}", "`if` without `else` has no value", (2, 13));
    assert_error("agent a() -> text {\n    let x = 1\n}", "the body produces no value of type `text`", (3, 1));
    assert_error("agent a() -> int {\n    let x = []\n    1\n}", "cannot infer the element type of `[]`", (2, 13));
    assert_error("agent a(t: text) -> text {\n    t[0]\n}", "text is not indexable", (2, 5));
}

/// A scratch folder holding `models/m` (with `config` as its config.json), removed when
/// dropped so that test runs leave nothing in the temp directory.
struct ModelDir(PathBuf);

impl Drop for ModelDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn model_dir(name: &str, config: Option<&str>) -> ModelDir {
    let dir = std::env::temp_dir().join(format!("agentc-frontend-test-{}-{name}", std::process::id()));
    let folder = dir.join("models/m");
    std::fs::create_dir_all(&folder).unwrap();
    if let Some(config) = config {
        std::fs::write(folder.join("config.json"), config).unwrap();
    }
    ModelDir(dir)
}

#[test]
fn model_folders() {
    let src = "model m = hf(\"models/m\")\nagent a() -> text { m.generate(\"hi\") }";
    // Absent: a warning in check mode, an error in build mode.
    let checked = check_source(src, &options(CheckMode::Check));
    assert!(checked.module.is_some());
    assert_eq!(checked.diagnostics[0].message, "model folder `models/m` not found");
    assert_error_in(src, CheckMode::Build, None, "model folder `models/m` not found", (1, 14));
    let dir = model_dir("noconfig", None);
    let (error, _) = first_error(src, CheckMode::Check, Some(dir.0.clone()));
    assert!(error.message.starts_with("model folder `models/m` has no readable config.json: "), "{}", error.message);
    let dir = model_dir("gpt", Some(r#"{"architectures": ["GPT2LMHeadModel"], "hidden_size": 8}"#));
    let rendered = assert_error_in(src, CheckMode::Check, Some(dir.0.clone()), "unsupported model architecture `GPT2LMHeadModel`", (1, 14));
    assert!(rendered.contains("LlamaForCausalLM"), "{rendered}");
    let dir = model_dir("bert", Some(r#"{"architectures": ["BertModel"], "hidden_size": 384}"#));
    assert_error_in(
        src,
        CheckMode::Check,
        Some(dir.0.clone()),
        "`generate` needs a decoder model, but `m` is an encoder (`BertModel`)",
        (2, 23),
    );
    let ok = check_source(
        "model m = hf(\"models/m\")\nfn f(a: tensor<384xf32>) -> f32 { sum(a) }\nagent a() -> float { f(m.embed(\"x\") @device(gpu)) }",
        &CheckOptions { mode: CheckMode::Build, base_dir: dir.0.clone() },
    );
    assert_eq!(ok.diagnostics.iter().filter(|d| d.is_error()).count(), 1, "{:?}", ok.diagnostics);
    assert_eq!(ok.diagnostics[0].message, "no `main` agent");
    assert_error_in(
        "model m = hf(\"models/m\")\nfn f(a: tensor<128xf32>) -> f32 { sum(a) }\nagent a() -> float { f(m.embed(\"x\")) }",
        CheckMode::Check,
        Some(dir.0.clone()),
        "mismatched types: expected `tensor<128xf32>`, found `tensor<384xf32>`",
        (3, 24),
    );
    assert_error("agent a(x: text) -> text { x.generate(\"p\") }", "`x` is not a model", (1, 28));
}

#[test]
fn tensor_shapes() {
    assert_error(
        "fn f(a: tensor<384xf32>, b: tensor<128xf32>) -> tensor<384xf32> { a + b }",
        "tensor shape mismatch: `tensor<384xf32>` and `tensor<128xf32>` cannot be broadcast",
        (1, 67),
    );
    assert_error(
        "fn f(a: tensor<4x384xf32>, b: tensor<128x8xf32>) -> tensor<4x8xf32> { matmul(a, b) }",
        "matmul inner dimensions differ: 384 vs 128",
        (1, 71),
    );
    assert_error(
        "fn f(a: tensor<4x8xf32>) -> tensor<4x8xf32> { sum(a) }",
        "mismatched types: expected `tensor<4x8xf32>`, found `f32`",
        (1, 47),
    );
    assert_error(
        "fn f(a: tensor<4x8xf32>) -> tensor<3x8xf32> { reshape(a, [3, 8]) }",
        "`reshape` changes the element count: `tensor<4x8xf32>` has 32, the new shape 24",
        (1, 47),
    );
    assert_error(
        &format!("{PRELUDE}fn f(a: f32) -> f32 {{ search(\"x\") }}"),
        "tools cannot be called inside a fn",
        (2, 23),
    );
    let ok = check_source(
        "fn f(a: tensor<?x4x8xf32>, b: tensor<8x2xf32>) -> tensor<?x4x2xf32> {\n let c = matmul(a, b) * 2.0\n softmax(transpose(transpose(c))) - 1\n}\nagent g(x: float) -> float { x }",
        &options(CheckMode::Check),
    );
    assert!(ok.module.is_some(), "{:?}", ok.diagnostics);
}

#[test]
fn annotations_in_the_wrong_place() {
    let rendered = assert_error(
        "agent a(c: bool) -> int @likely {\n    1\n}",
        "annotation `@likely` is not allowed here",
        (1, 25),
    );
    assert!(rendered.contains("after an if condition"), "{rendered}");
    assert_error("agent a() -> int {\n    1 @foo\n}", "unknown annotation `@foo`", (2, 8));
    assert_error(
        "agent a(t: text) -> text {\n    t + t @device(gpu)\n}",
        "annotation `@device` is not allowed here",
        (2, 11),
    );
    let ok = check_source(
        "agent a(c: bool, xs: list<text>) -> list<text> @sla(latency: 2s) @objective(cost) {\n    loop (max: 3) @expect(iterations: 2) { if c @unlikely { break } }\n    map x in xs @expect(iterations: 4) { x }\n}",
        &options(CheckMode::Check),
    );
    assert!(ok.module.is_some(), "{:?}", ok.diagnostics);
}

#[test]
fn missing_main_at_build() {
    let src = "agent a() -> int { 1 }";
    let rendered = assert_error_in(src, CheckMode::Build, None, "no `main` agent", (1, 1));
    assert!(rendered.contains("agent main(args: list<text>) -> text"), "{rendered}");
    assert_error_in("agent main(x: int) -> int { x }", CheckMode::Build, None, "`main` takes no parameters or one `list<text>`", (1, 12));
    assert!(check_source(src, &options(CheckMode::Check)).module.is_some());
}

#[test]
fn tools() {
    assert_error(
        "tool f(url: text) -> text = http(get, \"http://x/?q={uri}\")",
        "`{uri}` in the URL template is not a parameter of the tool",
        (1, 52),
    );
    assert_error("tool f(n: text) -> int = exec(\"ls\")", "a tool's result type must be `text`, found `int`", (1, 20));
    assert_error(
        "tool f(n: text) -> text = exec(\"ls\", [n], stdn: n)",
        "unknown argument `stdn` of `exec`",
        (1, 43),
    );
}

#[test]
fn parse_and_lex_errors_render_at_the_token() {
    assert_error("agent a() -> int {\n    let x = 1 let y = 2\n}", "expected a newline or `}`, found `let`", (2, 15));
    assert_error("agent a() -> int { 99999999999999999999999 }", "integer literal too large", (1, 20));
}

#[test]
fn invalid_utf8_points_at_the_byte() {
    let mut bytes = b"agent a() -> text { \"".to_vec();
    bytes.push(0xff);
    bytes.extend_from_slice(b"\" }");
    let checked = check_bytes(&bytes, &options(CheckMode::Check));
    assert!(checked.module.is_none());
    assert_eq!(checked.diagnostics[0].primary_span().unwrap().start, 21);
}

#[test]
fn keeps_going_across_items() {
    let checked = check_source(
        "agent a() -> int { x }\nagent b() -> int { y }\nagent c() -> int { \"s\" }",
        &options(CheckMode::Check),
    );
    let messages: Vec<&str> = checked.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        ["unknown name `x`", "unknown name `y`", "mismatched types: expected `int`, found `text`"]
    );
}

/// Checks `bytes` on an 8 MB stack; asserts no panic, at least one error, and every span
/// inside the input.
fn assert_clean_failure(name: &str, bytes: Vec<u8>) {
    let len = bytes.len();
    let name = name.to_string();
    on_small_stack(move || {
        let checked: Checked = check_bytes(&bytes, &options(CheckMode::Check));
        assert!(checked.diagnostics.iter().any(Diagnostic::is_error), "{name}: no error");
        assert!(checked.module.is_none(), "{name}");
        for d in &checked.diagnostics {
            for label in &d.labels {
                assert!(label.span.start <= label.span.end && label.span.end as usize <= len, "{name}: span {:?} outside {len}", label.span);
            }
        }
    });
}

#[test]
fn malformed_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    assert!(entries.len() >= 10);
    for path in entries {
        assert_clean_failure(&path.display().to_string(), std::fs::read(&path).unwrap());
    }
}

#[test]
fn generated_pathological_inputs() {
    let wrap = |body: String| format!("agent a() -> int {{\n    {body}\n}}\n").into_bytes();
    for open in ["(", "[", "{"] {
        assert_clean_failure(&format!("deep {open}"), wrap(open.repeat(10_000)));
    }
    assert_clean_failure("deep if", wrap("if true { ".repeat(300)));
    assert_clean_failure("deep list type", format!("agent a(x: {}int{}) -> int {{ 1 }}", "list<".repeat(10_000), ">".repeat(10_000)).into_bytes());
    assert_clean_failure("unary minus", wrap(format!("{}1", "-".repeat(10_000))));
    assert_clean_failure("plus chain", wrap(vec!["a"; 100_000].join(" + ")));
    assert_clean_failure("else-if chain", wrap(format!("{}{{ 1 }}", "if true { 1 } else ".repeat(2_000))));
    assert_clean_failure("1 MB string", wrap(format!("\"{}\" + 1", "x".repeat(1 << 20))));
    assert_clean_failure("400 digits", wrap("9".repeat(400)));
    assert_clean_failure("invalid utf-8", [b"agent a() -> int { ".as_slice(), &[0xc3, 0x28], b" }"].concat());
    assert_clean_failure("lone cr", b"agent a() -> int {\r1\r}".to_vec());
    assert_clean_failure("nul", b"\0\0\0".to_vec());
    let many = (0..5_000).map(|i| format!("agent a{i}() -> int {{ a{}() }}\n", i + 1)).collect::<String>();
    assert_clean_failure("long call chain", format!("{many}agent a5000() -> int {{ a0() }}").into_bytes());
}

/// xorshift64*: a tiny deterministic PRNG (no extra crates).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        match rng.below(4) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => {
                let len = rng.below(16).min(out.len() - at);
                out.drain(at..at + len);
            }
            2 => {
                let len = rng.below(24).min(out.len() - at);
                let run = out[at..at + len].to_vec();
                let to = rng.below(out.len());
                out.splice(to..to, run);
            }
            _ => {
                const PIECES: &[&[u8]] = &[b"(", b")", b"{", b"}", b"[", b"]", b"\n", b"@likely", b"\"", b"\\", b"map x in ", b"if ", b"else", b"-", b"return ", b"break", b"tensor<", b"1e999", b"\xff"];
                let piece = PIECES[rng.below(PIECES.len())];
                out.splice(at..at, piece.iter().copied());
            }
        }
    }
    out
}

#[test]
fn randomized_mutations_never_panic() {
    on_small_stack(|| {
        let base = EXAMPLE.as_bytes();
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let mut inputs: Vec<Vec<u8>> = (0..3_000).map(|_| mutate(&mut rng, base)).collect();
        inputs.extend((0..base.len()).step_by(7).map(|n| base[..n].to_vec()));
        let opts = options(CheckMode::Check);
        for (i, input) in inputs.iter().enumerate() {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_bytes(input, &opts)));
            let checked = result.unwrap_or_else(|_| panic!("input {i} panicked: {:?}", String::from_utf8_lossy(input)));
            for d in &checked.diagnostics {
                for label in &d.labels {
                    assert!(label.span.end as usize <= input.len() && label.span.start <= label.span.end, "input {i}: span {:?}", label.span);
                }
            }
            assert_eq!(checked.module.is_none(), checked.diagnostics.iter().any(Diagnostic::is_error), "input {i}");
        }
    });
}

#[test]
fn deepest_accepted_trees_check_on_a_small_stack() {
    on_small_stack(|| {
        let opts = options(CheckMode::Check);
        let chain = format!("agent a(x: int) -> int {{ {} }}", vec!["x"; 250].join(" + "));
        assert!(check_source(&chain, &opts).module.is_some());
        let lists = format!("agent a() -> int {{\n let l = {}1{}\n 1\n}}", "[".repeat(250), "]".repeat(250));
        assert!(check_source(&lists, &opts).module.is_some());
        let ifs = format!("agent a(c: bool) -> int {{ {}1{} }}", "if c { ".repeat(120), " } else { 2 }".repeat(120));
        let checked = check_source(&ifs, &opts);
        assert!(checked.module.is_some(), "{:?}", checked.diagnostics.first());
        let minus = format!("fn f(a: f32) -> f32 {{ {}a }}", "-(".repeat(250) + &")".repeat(0));
        let _ = check_source(&minus, &opts);
    });
}
