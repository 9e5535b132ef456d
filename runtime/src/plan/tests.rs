//! Unit tests of the plan schema: a valid plan loads and round-trips byte for byte;
//! malformed plans are rejected with a message that says where and what.

use super::*;

/// A small valid plan: main calls a tool in a map, an if, a loop and a generate.
fn valid() -> serde_json::Value {
    serde_json::from_str(r#"{
        "format": "agentc-plan",
        "format_version": 3,
        "source": "t.agent",
        "target": {"name": "host", "objective": "latency", "makespan_seconds": 0.5,
                   "devices": [{"name": "cpu", "kind": "cpu"}, {"name": "gpu0", "kind": "gpu"}, {"name": "gpu1", "kind": "gpu"}]},
        "models": [{"name": "llm", "path": "models/tiny-llama", "kind": "decoder", "dtype": "f32", "hidden_size": 64,
                    "kernels": {"decode": "llm_decode_step", "prefill": "llm_prefill"},
                    "config": {"hidden_size": 64, "vocab_size": 384},
                    "weights": [{"name": "lm_head.weight", "dtype": "F32", "shape": [384, 64]},
                                {"name": "model.embed_tokens.weight", "dtype": "F32", "shape": [384, 64]}]}],
        "functions": [
            {"name": "echo", "kind": "tool", "params": [{"id": 0, "type": "text"}], "results": ["text"], "body": [
                {"op": "const", "results": [{"id": 1, "type": "text"}], "attrs": {"value": "hi"}},
                {"op": "list_literal", "operands": [1, 0], "results": [{"id": 2, "type": "list<text>"}]},
                {"op": "exec", "operands": [2], "results": [{"id": 3, "type": "text"}],
                 "attrs": {"program": "echo", "retries": 0, "timeout_ms": 0}},
                {"op": "return", "operands": [3]}
            ]},
            {"name": "main", "kind": "agent", "params": [{"id": 0, "type": "list<text>"}], "results": ["text"], "loc": "t.agent:3:1", "body": [
                {"op": "list_len", "operands": [0], "results": [{"id": 1, "type": "int"}]},
                {"op": "const", "results": [{"id": 2, "type": "int"}], "attrs": {"value": 0}},
                {"op": "const", "results": [{"id": 3, "type": "int"}], "attrs": {"value": 1}},
                {"op": "list_literal", "results": [{"id": 4, "type": "list<text>"}]},
                {"op": "map", "operands": [2, 1, 3, 4], "results": [{"id": 5, "type": "list<text>"}], "regions": [
                    {"params": [{"id": 6, "type": "int"}, {"id": 7, "type": "list<text>"}], "body": [
                        {"op": "list_get", "operands": [0, 6], "results": [{"id": 8, "type": "text"}], "loc": "t.agent:4:9"},
                        {"op": "tool", "operands": [8], "results": [{"id": 9, "type": "text"}], "attrs": {"callee": "echo"},
                         "placement": {"device": "cpu", "start": 0.0, "finish": 0.1}},
                        {"op": "list_append", "operands": [7, 9], "results": [{"id": 10, "type": "list<text>"}]},
                        {"op": "yield", "operands": [10]}
                    ]}
                ]},
                {"op": "const", "results": [{"id": 11, "type": "text"}], "attrs": {"value": ","}},
                {"op": "join", "operands": [5, 11], "results": [{"id": 12, "type": "text"}]},
                {"op": "cmp", "operands": [1, 2], "results": [{"id": 13, "type": "bool"}], "attrs": {"predicate": "gt"}},
                {"op": "if", "operands": [13], "results": [{"id": 14, "type": "text"}], "regions": [
                    {"body": [
                        {"op": "prefill", "operands": [12], "results": [{"id": 15, "type": "kv"}], "attrs": {"model": "llm"},
                         "placement": {"device": "gpu0"}},
                        {"op": "list_literal", "results": [{"id": 16, "type": "list<text>"}]},
                        {"op": "decode", "operands": [15, 16], "results": [{"id": 17, "type": "text"}],
                         "attrs": {"model": "llm", "max_tokens": 8, "temperature": 0.0}},
                        {"op": "yield", "operands": [17]}
                    ]},
                    {"body": [{"op": "yield", "operands": [12]}]}
                ]},
                {"op": "loop", "operands": [2], "results": [{"id": 18, "type": "int"}], "attrs": {"max_iterations": 3}, "regions": [
                    {"params": [{"id": 19, "type": "int"}], "body": [
                        {"op": "cmp", "operands": [19, 1], "results": [{"id": 20, "type": "bool"}], "attrs": {"predicate": "lt"}},
                        {"op": "condition", "operands": [20, 19]}
                    ]},
                    {"params": [{"id": 21, "type": "int"}], "body": [
                        {"op": "add", "operands": [21, 3], "results": [{"id": 22, "type": "int"}]},
                        {"op": "yield", "operands": [22]}
                    ]}
                ]},
                {"op": "return", "operands": [14]}
            ]}
        ]
    }"#).expect("test plan is JSON")
}

fn load_value(value: &serde_json::Value) -> Result<Plan, PlanError> {
    load(&serde_json::to_string(value).unwrap())
}

/// Loads `value` after `edit`, expecting an error containing every one of `parts`.
fn rejects(edit: impl FnOnce(&mut serde_json::Value), parts: &[&str]) {
    let mut value = valid();
    edit(&mut value);
    match load_value(&value) {
        Ok(_) => panic!("accepted a malformed plan (expected {parts:?})"),
        Err(e) => {
            for part in parts {
                assert!(e.message.contains(part), "error `{}` does not contain `{part}`", e.message);
            }
        }
    }
}

fn main_body(value: &mut serde_json::Value) -> &mut Vec<serde_json::Value> {
    value["functions"][1]["body"].as_array_mut().unwrap()
}

#[test]
fn valid_plan_loads_and_round_trips() {
    let plan = load_value(&valid()).expect("valid plan");
    let text = plan.to_json();
    let again = load(&text).expect("reloads");
    assert_eq!(plan, again);
    assert_eq!(text, again.to_json(), "serialisation is deterministic");
    assert!(text.find("\"format\"").unwrap() < text.find("\"format_version\"").unwrap());
}

#[test]
fn types_parse_and_print() {
    for text in ["text", "int", "float", "bool", "kv", "f32", "list<list<int>>", "tensor<64xf32>", "tensor<?x3xbf16>", "tensor<f32>"] {
        let ty: Type = text.parse().unwrap();
        assert_eq!(ty.to_string(), text);
    }
    for bad in ["", "list<>", "tensor<64>", "tensor<axf32>", "string", "list<text"] {
        assert!(bad.parse::<Type>().is_err(), "{bad} parsed");
    }
}

#[test]
fn rejects_non_json_and_wrong_headers() {
    assert!(load("{").unwrap_err().message.contains("not valid JSON"));
    assert!(load("[]").unwrap_err().message.contains("not a JSON object"));
    rejects(|v| v["format"] = "other".into(), &["not an agentc plan"]);
    rejects(|v| { v.as_object_mut().unwrap().remove("format"); }, &["missing `format`"]);
    rejects(|v| v["format_version"] = 1.into(), &["version 1 is not supported", "reads version 3"]);
    rejects(|v| v["format_version"] = "2".into(), &["format_version"]);
    rejects(|v| v["extra"] = 1.into(), &["unknown field `extra`"]);
    rejects(|v| { v.as_object_mut().unwrap().remove("functions"); }, &["missing field `functions`"]);
}

#[test]
fn rejects_bad_types() {
    rejects(|v| v["functions"][1]["params"][0]["type"] = "string".into(), &["`string` is not a plan type"]);
}

#[test]
fn rejects_unknown_opcode() {
    rejects(|v| main_body(v)[0]["op"] = "frobnicate".into(), &["function `main`, op 0 (`frobnicate`)", "unknown opcode"]);
}

#[test]
fn rejects_use_before_definition() {
    rejects(|v| main_body(v)[0]["operands"] = serde_json::json!([99]), &["operand %99 is used before it is defined"]);
    // A value defined inside a map's body is not visible after it.
    rejects(|v| main_body(v)[5]["operands"] = serde_json::json!([9]), &["op 5 (`const`)", "%9 is not visible"]);
}

#[test]
fn rejects_redefinition() {
    rejects(|v| main_body(v)[1]["results"][0]["id"] = 1.into(), &["value %1 is defined twice"]);
}

#[test]
fn rejects_type_mismatch() {
    rejects(|v| main_body(v)[0]["results"][0]["type"] = "text".into(), &["list_len", "expected (list<T>) -> int"]);
    rejects(|v| main_body(v)[6]["operands"] = serde_json::json!([11, 11]), &["join", "expected (list<text>, text)"]);
    rejects(|v| main_body(v)[1]["attrs"]["value"] = "zero".into(), &["is not a constant of type int"]);
}

#[test]
fn rejects_bad_regions() {
    // The map body's yield passes text where the accumulator is a list.
    rejects(|v| main_body(v)[4]["regions"][0]["body"][3]["operands"] = serde_json::json!([9]), &["`yield` passes (text)"]);
    rejects(|v| { main_body(v)[8]["regions"].as_array_mut().unwrap().pop(); }, &["`if`", "has 1 regions, expected 2"]);
    rejects(|v| { main_body(v)[9]["regions"][0]["body"].as_array_mut().unwrap().pop(); }, &["ends in `cmp`, not `condition`"]);
    rejects(|v| { main_body(v).pop(); }, &["ends in `loop`, not `return`"]);
}

#[test]
fn rejects_unknown_references() {
    rejects(|v| main_body(v)[4]["regions"][0]["body"][1]["attrs"]["callee"] = "nope".into(), &["tool `nope` is not in the plan"]);
    rejects(|v| main_body(v)[8]["regions"][0]["body"][0]["attrs"]["model"] = "gpt".into(), &["model `gpt` is not declared"]);
    rejects(|v| { v["functions"].as_array_mut().unwrap().pop(); }, &["no `main` function"]);
}

#[test]
fn rejects_bad_attributes() {
    rejects(|v| main_body(v)[8]["regions"][0]["body"][2]["attrs"]["max_tokens"] = 0.into(), &["max_tokens 0 is not positive"]);
    rejects(|v| main_body(v)[7]["attrs"]["predicate"] = "slt".into(), &["predicate `slt`"]);
    rejects(|v| main_body(v)[8]["regions"][0]["body"][0]["placement"]["device"] = "".into(), &["empty device"]);
}

#[test]
fn rejects_tool_ops_outside_tools() {
    rejects(
        |v| {
            let exec = v["functions"][0]["body"][2].clone();
            let mut exec = exec;
            exec["operands"] = serde_json::json!([4]);
            exec["results"][0]["id"] = 40.into();
            main_body(v).insert(5, exec);
        },
        &["`exec`", "only a tool function may hold it"],
    );
}

/// The attributes of the `exec` op of tool `echo`.
fn exec(v: &mut serde_json::Value) -> &mut serde_json::Value {
    &mut v["functions"][0]["body"][2]["attrs"]
}

#[test]
fn tool_limits_are_in_range() {
    let mut value = valid();
    exec(&mut value)["retries"] = 100.into();
    exec(&mut value)["max_output"] = (1u64 << 30).into();
    load_value(&value).expect("the largest retries and max_output are accepted");
    rejects(|v| exec(v)["retries"] = 101.into(), &["function `echo`, op 2 (`exec`)", "`retries` is above 100"]);
    rejects(|v| exec(v)["max_output"] = 0.into(), &["`max_output` must be an integer from 1 to 1073741824, not 0"]);
    rejects(|v| exec(v)["max_output"] = ((1u64 << 30) + 1).into(), &["not 1073741825"]);
    rejects(|v| exec(v)["max_output"] = "16MiB".into(), &["not \"16MiB\""]);
    exec(&mut value)["backoff_ms"] = 60_000.into();
    load_value(&value).expect("the longest backoff is accepted");
    rejects(|v| exec(v)["backoff_ms"] = 0.into(), &["`backoff_ms` must be an integer from 1 to 60000, not 0"]);
    rejects(|v| exec(v)["backoff_ms"] = 60_001.into(), &["not 60001"]);
}

#[test]
fn placements_name_devices_of_the_target() {
    // A tensor-parallel group of two devices, and an unscheduled fragment.
    let mut value = valid();
    main_body(&mut value)[8]["regions"][0]["body"][0]["placement"]["device"] = "gpu0+gpu1".into();
    main_body(&mut value)[4]["regions"][0]["body"][1]["placement"]["device"] = "none".into();
    load_value(&value).expect("groups and `none` are accepted");
    rejects(|v| main_body(v)[8]["regions"][0]["body"][0]["placement"]["device"] = "gpu7".into(), &["device `gpu7` is not in the target's devices"]);
    rejects(
        |v| main_body(v)[8]["regions"][0]["body"][0]["placement"]["device"] = "gpu0+tpu".into(),
        &["placement on `gpu0+tpu`", "device `tpu`"],
    );
    // Without a target, placements are not checked against devices.
    let mut value = valid();
    value.as_object_mut().unwrap().remove("target");
    main_body(&mut value)[8]["regions"][0]["body"][0]["placement"]["device"] = "gpu7".into();
    load_value(&value).expect("unscheduled plans name no target devices");
}

#[test]
fn rejects_bad_devices_and_kernels() {
    rejects(|v| { v["target"].as_object_mut().unwrap().remove("devices"); }, &["missing field `devices`"]);
    rejects(|v| v["target"]["devices"] = serde_json::json!([]), &["lists no devices"]);
    rejects(|v| v["target"]["devices"][1]["kind"] = "fpga".into(), &["device `gpu0` has kind `fpga`"]);
    rejects(|v| v["target"]["devices"][2]["name"] = "gpu0".into(), &["device `gpu0` is listed twice"]);
    rejects(|v| v["target"]["devices"][2]["name"] = "a+b".into(), &["`a+b` is not a device name"]);
    rejects(|v| v["models"][0]["kernels"]["generate"] = "x".into(), &["kernel role `generate`"]);
    rejects(|v| v["models"][0]["kernels"]["prefill"] = "".into(), &["empty symbol"]);
    rejects(|v| v["models"][0]["config"] = serde_json::json!({}), &["model `llm`: `config` and `weights` must be given exactly when `kernels` is"]);
    rejects(|v| v["models"][0]["weights"] = serde_json::json!([]), &["exactly when `kernels` is"]);
    rejects(|v| v["models"][0]["config"]["colour"] = 3.into(), &["unknown config key `colour`"]);
    rejects(|v| v["models"][0]["weights"][1]["name"] = "a".into(), &["weight `a` is out of order or repeated"]);
    rejects(|v| v["models"][0]["weights"][0]["shape"] = serde_json::json!([1u64 << 40, 1u64 << 40]), &["a shape too large"]);
    rejects(|v| v["models"][0]["weights"][0]["stored"] = "I8".into(), &["weight `lm_head.weight` is read as F32 but stored as I8: only F16 and BF16 convert"]);
}

/// The plan with a chat: `llm` has a template, and the prompt of main's prefill is a
/// `chat_prompt` of a one-message conversation; prefill and decode carry `chat`.
fn with_chat() -> serde_json::Value {
    let mut v = valid();
    v["models"][0]["chat"] = serde_json::json!({"template": "{{ messages[0]['content'] }}", "bos_token": "<s>", "eos_token": "</s>"});
    let body = main_body(&mut v);
    body.insert(7, serde_json::json!({"op": "list_literal", "operands": [11, 12], "results": [{"id": 30, "type": "list<text>"}]}));
    body.insert(8, serde_json::json!({"op": "list_literal", "operands": [30], "results": [{"id": 31, "type": "list<list<text>>"}]}));
    body.insert(9, serde_json::json!({"op": "chat_prompt", "operands": [31], "results": [{"id": 32, "type": "text"}], "attrs": {"model": "llm"}}));
    let then = &mut body[11]["regions"][0]["body"];
    then[0]["operands"] = serde_json::json!([32]);
    then[0]["attrs"]["chat"] = true.into();
    then[2]["attrs"]["chat"] = true.into();
    v
}

#[test]
fn loads_a_chat_and_rejects_a_malformed_one() {
    let plan = load_value(&with_chat()).expect("the chat plan loads");
    assert_eq!(plan.models[0].chat.as_ref().map(|c| c.eos_token.as_str()), Some("</s>"));
    let rejects_chat = |edit: &dyn Fn(&mut serde_json::Value), part: &str| {
        let mut v = with_chat();
        edit(&mut v);
        let err = load_value(&v).expect_err(part).message;
        assert!(err.contains(part), "error `{err}` does not contain `{part}`");
    };
    rejects_chat(&|v| v["models"][0]["chat"]["template"] = "{% if %}".into(), "model `llm`: the chat template does not parse: syntax error");
    rejects_chat(&|v| v["models"][0]["chat"]["extra"] = 1.into(), "unknown field `extra`");
    rejects_chat(&|v| v["models"][0]["kind"] = "encoder".into(), "model `llm`: an encoder has no chat template");
    rejects_chat(&|v| { v["models"][0].as_object_mut().unwrap().remove("chat"); }, "model `llm` has no chat template in the plan");
    rejects_chat(&|v| main_body(v)[9]["results"][0]["type"] = "list<text>".into(), "op 9 (`chat_prompt`): results are (list<text>), expected (text)");
    rejects_chat(&|v| main_body(v)[11]["regions"][0]["body"][2]["attrs"]["chat"] = 1.into(), "attribute `chat` is `true` on a prefill or decode only");
    let mut v = valid();
    main_body(&mut v)[8]["regions"][0]["body"][0]["attrs"]["chat"] = true.into();
    let err = load_value(&v).unwrap_err().message;
    assert!(err.contains("a `chat` prefill of model `llm`, which has no chat template in the plan"), "{err}");
}

/// Randomized inputs (fixed seed, so a failure reproduces): the loader must answer every
/// mutation of a valid plan — structural edits of the JSON and byte-level damage to its
/// text — with `Ok` or an error, never a panic; and whatever it accepts must validate.
#[test]
fn mutated_plans_never_panic_the_loader() {
    use crate::sampling::Pcg32;
    let mut rng = Pcg32::new(7, 11);
    let mut pick = |n: usize| (rng.next_u32() as usize) % n.max(1);
    let base = valid();

    // Every path to a value inside the plan, so an edit can land anywhere.
    fn paths(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            serde_json::Value::Object(m) => {
                for (k, child) in m {
                    at.push(k.clone());
                    paths(child, at, out);
                    at.pop();
                }
            }
            serde_json::Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    at.push(i.to_string());
                    paths(child, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(&base, &mut Vec::new(), &mut all);
    let replacements = [
        serde_json::json!(null), serde_json::json!(-1), serde_json::json!(4294967296u64), serde_json::json!(1.5),
        serde_json::json!(""), serde_json::json!("tensor<?x"), serde_json::json!("list<list<kv>>"), serde_json::json!([]),
        serde_json::json!({}), serde_json::json!(true), serde_json::json!([0, 0, 0]), serde_json::json!("none"),
        serde_json::json!(1e308), serde_json::json!("return"), serde_json::json!({"id": 1, "type": "text"}),
    ];
    let mut accepted = 0;
    for round in 0..3000 {
        let text = if round % 3 == 2 {
            // Byte-level damage: cut, duplicate or flip a span of the text.
            let mut bytes = serde_json::to_vec(&base).unwrap();
            let at = pick(bytes.len());
            match pick(3) {
                0 => bytes.truncate(at),
                1 => {
                    let span: Vec<u8> = bytes[at..(at + 1 + pick(40)).min(bytes.len())].to_vec();
                    bytes.splice(at..at, span);
                }
                _ => bytes[at] ^= 1 << pick(8),
            }
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            // Structural edits: replace, delete or duplicate values at random paths.
            let mut plan = base.clone();
            for _ in 0..1 + pick(3) {
                let path = &all[pick(all.len())];
                let Some((last, parent)) = path.split_last() else { continue };
                let pointer: String = parent.iter().map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1"))).collect();
                let Some(node) = plan.pointer_mut(&pointer) else { continue };
                let replacement = replacements[pick(replacements.len())].clone();
                match node {
                    serde_json::Value::Object(m) if pick(4) == 0 => { m.remove(last); }
                    serde_json::Value::Object(m) => { m.insert(last.clone(), replacement); }
                    serde_json::Value::Array(a) => {
                        if let Ok(i) = last.parse::<usize>() && i < a.len() {
                            if pick(3) == 0 { let copy = a[i].clone(); a.insert(i, copy); } else { a[i] = replacement; }
                        }
                    }
                    _ => {}
                }
            }
            plan.to_string()
        };
        let outcome = std::panic::catch_unwind(|| load(&text).map(|plan| validate(&plan)));
        match outcome {
            Err(_) => panic!("the loader panicked on round {round}:\n{text}"),
            Ok(Ok(Err(e))) => panic!("round {round}: load accepted a plan that validate rejects: {e}\n{text}"),
            Ok(Ok(Ok(()))) => accepted += 1,
            Ok(Err(_)) => {}
        }
    }
    // Some edits are harmless (a location, a placement time): the test sees both outcomes.
    assert!(accepted > 0 && accepted < 3000, "{accepted} of 3000 accepted");
}

/// The map of `valid()` is main's op 4; the loop is op 9.
fn main_op(value: &mut serde_json::Value, index: usize) -> &mut serde_json::Value {
    &mut main_body(value)[index]
}

#[test]
fn iteration_is_bounded() {
    rejects(|v| { main_op(v, 9)["attrs"].as_object_mut().unwrap().remove("max_iterations"); }, &["op 9 (`loop`)", "max_iterations"]);
    rejects(|v| main_op(v, 9)["attrs"]["max_iterations"] = 0.into(), &["`max_iterations` is 0"]);
    // A map up to a constant past the cap, from a run-time value, or in steps not constant.
    rejects(|v| {
        main_body(v)[2]["attrs"]["value"] = (MAX_CONSTANT_TRIPS + 1).into();
        main_op(v, 4)["operands"] = serde_json::json!([2, 3, 3, 4]);
    }, &["op 4 (`map`)", "upper bound"]);
    rejects(|v| main_op(v, 4)["operands"] = serde_json::json!([1, 1, 3, 4]), &["lower bound"]);
    rejects(|v| main_op(v, 4)["operands"] = serde_json::json!([2, 1, 1, 4]), &["step"]);
    // A constant bound within the cap is what folding a map over a literal list leaves.
    let mut value = valid();
    main_op(&mut value, 4)["operands"] = serde_json::json!([2, 3, 3, 4]);
    load_value(&value).expect("a constant bound of 1 loads");
}

#[test]
fn map_max_parallel_is_bounded() {
    let mut value = valid();
    main_op(&mut value, 4)["attrs"] = serde_json::json!({"max_parallel": 16});
    load_value(&value).expect("a map with max_parallel 16 loads");
    rejects(|v| main_op(v, 4)["attrs"] = serde_json::json!({"max_parallel": 0}), &["op 4 (`map`)", "`max_parallel` must be an integer from 1 to 1024"]);
    rejects(|v| main_op(v, 4)["attrs"] = serde_json::json!({"max_parallel": 1025}), &["`max_parallel`"]);
    rejects(|v| main_op(v, 4)["attrs"] = serde_json::json!({"max_parallel": "8"}), &["`max_parallel`"]);
}

#[test]
fn main_has_the_language_signature() {
    rejects(|v| v["functions"][1]["results"] = serde_json::json!(["int"]), &["`main` is (list<text>) -> (int)"]);
    rejects(|v| v["functions"][1]["params"][0]["type"] = "text".into(), &["`main` is (text) -> (text)", "list<text>"]);
}

/// Replaces main's `if` (op 8) with a `try` whose catch arm yields its error message.
fn with_try(v: &mut serde_json::Value) {
    main_body(v)[8] = serde_json::json!(
        {"op": "try", "results": [{"id": 14, "type": "text"}], "regions": [
            {"body": [{"op": "yield", "operands": [12]}]},
            {"params": [{"id": 30, "type": "text"}], "body": [{"op": "yield", "operands": [30]}]}
        ]}
    );
}

#[test]
fn try_has_a_body_and_a_catch_arm_taking_the_error() {
    let mut value = valid();
    with_try(&mut value);
    load_value(&value).expect("a try loads");
    rejects(|v| { with_try(v); main_body(v)[8]["operands"] = serde_json::json!([13]); }, &["`try`", "expected no operands"]);
    rejects(|v| { with_try(v); main_body(v)[8]["regions"].as_array_mut().unwrap().pop(); }, &["`try`", "has 1 regions, expected 2"]);
    rejects(|v| { with_try(v); main_body(v)[8]["regions"][1]["params"][0]["type"] = "int".into(); }, &["`try`"]);
    rejects(|v| { with_try(v); main_body(v)[8]["regions"][1]["params"] = serde_json::json!([]); }, &["`try`"]);
}

/// Tool `echo` made an http tool: a POST of a `json_object` body with a declared header.
fn http_tool(v: &mut serde_json::Value) {
    let body = v["functions"][0]["body"].as_array_mut().unwrap();
    body[1] = serde_json::json!({"op": "json_object", "operands": [1, 0], "results": [{"id": 2, "type": "text"}],
                                 "attrs": {"keys": ["a", "b"]}});
    body[2] = serde_json::json!({"op": "http", "operands": [1, 2], "results": [{"id": 3, "type": "text"}],
                                 "attrs": {"method": "post", "retries": 0, "timeout_ms": 0, "content_type": "application/json",
                                           "header_names": ["Authorization"], "header_values": ["Bearer {API_TOKEN}"]}});
}

/// The attributes of the `http` op of [`http_tool`].
fn http(v: &mut serde_json::Value) -> &mut serde_json::Value {
    &mut v["functions"][0]["body"][2]["attrs"]
}

#[test]
fn http_headers_and_json_bodies_are_checked() {
    let mut value = valid();
    http_tool(&mut value);
    load_value(&value).expect("an http tool with a header and a JSON body loads");
    let lengths = "`header_names` and `header_values` must be string arrays of one length";
    rejects(|v| { http_tool(v); http(v)["header_values"] = serde_json::json!([]); }, &["op 2 (`http`)", lengths]);
    rejects(|v| { http_tool(v); http(v).as_object_mut().unwrap().remove("header_values"); }, &[lengths]);
    rejects(|v| { http_tool(v); http(v)["header_names"] = serde_json::json!([7]); }, &[lengths]);
    rejects(|v| { http_tool(v); http(v)["content_type"] = 1.into(); }, &["content_type"]);
    rejects(
        |v| { http_tool(v); v["functions"][0]["body"][1]["attrs"]["keys"] = serde_json::json!(["a"]); },
        &["op 1 (`json_object`)", "`keys` must hold one name per operand (2)"],
    );
    rejects(
        |v| {
            http_tool(v);
            let op = v["functions"][0]["body"][1].clone();
            main_body(v).insert(0, serde_json::json!({"op": "const", "results": [{"id": 30, "type": "text"}], "attrs": {"value": "x"}}));
            let mut op = op;
            op["operands"] = serde_json::json!([30, 30]);
            op["results"][0]["id"] = 31.into();
            main_body(v).insert(1, op);
        },
        &["`json_object`", "only a tool function may hold it"],
    );
}

/// Record ops at the start of main: a record built, a field read, written as JSON and read
/// back by the record's schema.
fn with_records(v: &mut serde_json::Value) {
    let schema = r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a","b"],"additionalProperties":false}"#;
    let ops = serde_json::json!([
        {"op": "const", "results": [{"id": 100, "type": "text"}], "attrs": {"value": "x"}},
        {"op": "const", "results": [{"id": 101, "type": "int"}], "attrs": {"value": 2}},
        {"op": "record_new", "operands": [100, 101], "results": [{"id": 102, "type": "record<P>"}], "attrs": {"fields": ["a", "b"]}},
        {"op": "record_get", "operands": [102], "results": [{"id": 103, "type": "int"}], "attrs": {"field": "b", "index": 1}},
        {"op": "to_json", "operands": [102], "results": [{"id": 104, "type": "text"}]},
        {"op": "json_parse", "operands": [104], "results": [{"id": 105, "type": "record<P>"}], "attrs": {"schema": schema}}
    ]);
    let body = main_body(v);
    for (i, op) in ops.as_array().unwrap().iter().enumerate() {
        body.insert(i, op.clone());
    }
}

#[test]
fn record_ops_are_checked() {
    let mut value = valid();
    with_records(&mut value);
    let plan = load_value(&value).expect("record ops load");
    assert_eq!(plan.functions[1].body[2].results[0].ty, Type::Record("P".into()));
    for text in ["record<P>", "list<record<Answer_2>>"] {
        assert_eq!(text.parse::<Type>().unwrap().to_string(), text);
    }
    for bad in ["record<>", "record<1x>", "record<a b>", "record<list<int>>"] {
        assert!(bad.parse::<Type>().is_err(), "{bad} parsed");
    }
    rejects(|v| { with_records(v); main_body(v)[2]["attrs"]["fields"] = serde_json::json!(["a"]); }, &["`record_new`", "2 operands for 1 `fields`"]);
    rejects(|v| { with_records(v); main_body(v)[2]["attrs"]["fields"] = serde_json::json!(["a", "a"]); }, &["field `a` is named twice"]);
    rejects(|v| { with_records(v); main_body(v)[2]["results"][0]["type"] = "text".into(); }, &["result is text, not a record"]);
    rejects(|v| { with_records(v); main_body(v)[3]["operands"] = serde_json::json!([100]); }, &["`record_get`", "operand is text, not a record"]);
    rejects(|v| { with_records(v); main_body(v)[3]["attrs"].as_object_mut().unwrap().remove("index"); }, &["missing attribute `index`"]);
    rejects(|v| { with_records(v); main_body(v)[4]["results"][0]["type"] = "int".into(); }, &["`to_json`", "result must be text"]);
    rejects(|v| { with_records(v); main_body(v)[5]["attrs"]["schema"] = "[".into(); }, &["`json_parse`", "`schema` is not JSON"]);
    rejects(
        |v| { with_records(v); main_body(v)[5]["attrs"]["schema"] = r#"{"type":"string"}"#.into(); },
        &["`schema` of type `string` does not describe the result type record<P>"],
    );
    rejects(
        |v| { with_records(v); main_body(v)[5]["attrs"]["schema"] = r#"{"type":"object","properties":{"a":{"type":"string"}},"required":[]}"#.into(); },
        &["`required` is not its `properties`"],
    );
}
