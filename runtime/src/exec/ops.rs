//! The pure ops of the plan: constants, lists, the text built-ins, arithmetic, comparisons
//! and conversions, with the language's run-time errors (docs/language.md §7, §12). Errors
//! are the cause only; the interpreter adds the op's location.

use super::Value;
use crate::builtins;
use crate::plan::{Op, Type};

/// Evaluates a pure op. `None` when `op` is not one (control, tools, models).
pub(super) fn eval(op: &Op, args: &[&Value], results: &[Type]) -> Option<Result<Value, String>> {
    let ty = results.first();
    Some(match op.op.as_str() {
        "const" => constant(op, ty?),
        "list_literal" => Ok(Value::list(args.iter().map(|v| (*v).clone()).collect())),
        "list_len" => list(args[0]).map(|l| Value::Int(l.len() as i64)),
        "list_get" => list_get(args[0], args[1]),
        // Copies the list: operands are borrowed (the value stays visible to other ops).
        // `map` accumulators are empty per body, so this is O(1) there.
        "list_append" => list(args[0]).map(|l| {
            let mut items = Vec::with_capacity(l.len() + 1);
            items.extend_from_slice(l);
            items.push(args[1].clone());
            Value::list(items)
        }),
        "concat" => texts(args).map(|t| Value::Text(format!("{}{}", t[0], t[1]))),
        "text_eq" => texts(args).map(|t| Value::Bool(t[0] == t[1])),
        "contains" => texts(args).map(|t| Value::Bool(t[0].contains(t[1]))),
        "starts_with" => texts(args).map(|t| Value::Bool(t[0].starts_with(t[1]))),
        "lines" => texts(args).map(|t| text_list(builtins::lines(t[0]))),
        "split" => texts(args).map(|t| text_list(builtins::split(t[0], t[1]))),
        "join" => join(args[0], args[1]),
        "text_len" => texts(args).map(|t| Value::Int(builtins::text_len(t[0]))),
        "trim" => texts(args).map(|t| Value::Text(builtins::trim(t[0]))),
        "format" => format(args),
        "to_text" => Ok(Value::Text(args[0].to_text())),
        "record_new" => record_new(op, args),
        "record_get" => record_get(op, args[0]),
        "to_json" => super::json::to_json(args[0]).map(Value::Text),
        "json_parse" => {
            let schema = op.attrs.get("schema").and_then(|s| s.as_str()).unwrap_or("");
            texts(args).and_then(|t| super::json::parse(t[0], schema))
        }
        "parse_int" => texts(args).and_then(|t| builtins::parse_int(t[0])).map(Value::Int),
        "parse_float" => texts(args).and_then(|t| builtins::parse_float(t[0])).map(Value::Float),
        "argmax" => argmax(args[0]),
        "add" | "sub" | "mul" | "div" | "rem" | "min" | "max" => arith(&op.op, args[0], args[1], ty?),
        "and" | "or" | "xor" => logic(&op.op, args[0], args[1]),
        "neg" | "abs" => unary(&op.op, args[0], ty?),
        "cmp" => compare(op, args[0], args[1]),
        "convert" => convert(args[0], ty?),
        _ => return None,
    })
}

fn internal(what: &str, v: &Value) -> String {
    format!("internal error: {what} got a {} value", v.kind())
}

fn list(v: &Value) -> Result<&[Value], String> {
    match v {
        Value::List(l) => Ok(l),
        other => Err(internal("a list op", other)),
    }
}

fn texts<'v>(args: &[&'v Value]) -> Result<Vec<&'v str>, String> {
    args.iter()
        .map(|v| match v {
            Value::Text(t) => Ok(t.as_str()),
            other => Err(internal("a text op", other)),
        })
        .collect()
}

fn text_list(items: Vec<String>) -> Value {
    Value::list(items.into_iter().map(Value::Text).collect())
}

fn constant(op: &Op, ty: &Type) -> Result<Value, String> {
    let value = op.attrs.get("value").ok_or("internal error: `const` without `value`")?;
    let bad = || format!("internal error: `const` value {value} is not a {ty}");
    Ok(match ty {
        Type::Text => Value::Text(value.as_str().ok_or_else(bad)?.to_string()),
        Type::Int => Value::Int(value.as_i64().ok_or_else(bad)?),
        Type::Bool => Value::Bool(value.as_bool().ok_or_else(bad)?),
        Type::Scalar(s) if s == "i32" => Value::Int(value.as_i64().ok_or_else(bad)?),
        Type::Float | Type::Scalar(_) => Value::Float(value.as_f64().ok_or_else(bad)?),
        _ => return Err(bad()),
    })
}

fn record_new(op: &Op, args: &[&Value]) -> Result<Value, String> {
    let names = op.attrs.get("fields").and_then(|f| f.as_array()).ok_or("internal error: `record_new` without `fields`")?;
    let fields = names.iter().zip(args).map(|(name, value)| (name.as_str().unwrap_or_default().to_string(), (*value).clone())).collect();
    Ok(Value::Record(std::sync::Arc::new(fields)))
}

fn record_get(op: &Op, record: &Value) -> Result<Value, String> {
    let Value::Record(fields) = record else { return Err(internal("`record_get`", record)) };
    let index = op.attrs.get("index").and_then(|i| i.as_u64()).unwrap_or(u64::MAX);
    let field = op.attrs.get("field").and_then(|f| f.as_str()).unwrap_or_default();
    match usize::try_from(index).ok().and_then(|i| fields.get(i)) {
        Some((name, value)) if name == field => Ok(value.clone()),
        _ => Err(format!("internal error: the record has no field `{field}` at {index}")),
    }
}

fn list_get(l: &Value, i: &Value) -> Result<Value, String> {
    let (items, Value::Int(index)) = (list(l)?, i) else { return Err(internal("`list_get` index", i)) };
    usize::try_from(*index)
        .ok()
        .and_then(|k| items.get(k))
        .cloned()
        .ok_or_else(|| format!("index {index} out of range for a list of length {}", items.len()))
}

fn join(l: &Value, sep: &Value) -> Result<Value, String> {
    let items: Vec<String> = list(l)?.iter().map(Value::to_text).collect();
    let sep = texts(&[sep])?[0];
    Ok(Value::Text(builtins::join(&items, sep)))
}

fn format(args: &[&Value]) -> Result<Value, String> {
    let template = texts(&args[..1])?[0];
    let rest: Vec<String> = args[1..].iter().map(|v| v.to_text()).collect();
    builtins::format(template, &rest).map(Value::Text).map_err(|e| e.0)
}

fn argmax(l: &Value) -> Result<Value, String> {
    let items = list(l)?;
    let index = match items.first() {
        None => None,
        Some(Value::Int(_)) => {
            let ints: Vec<i64> = items.iter().map(|v| if let Value::Int(i) = v { *i } else { i64::MIN }).collect();
            let max = ints.iter().max().copied();
            max.and_then(|m| ints.iter().position(|&x| x == m))
        }
        Some(_) => {
            let floats: Vec<f64> = items.iter().map(|v| if let Value::Float(f) = v { *f } else { f64::NAN }).collect();
            builtins::argmax(&floats)
        }
    };
    index.map(|i| Value::Int(i as i64)).ok_or_else(|| "argmax of an empty list".to_string())
}

/// Narrows an integer result to its type (`i32` is checked).
fn int_result(r: i64, ty: &Type, what: impl Fn() -> String) -> Result<Value, String> {
    if matches!(ty, Type::Scalar(s) if s == "i32") && i32::try_from(r).is_err() {
        return Err(what());
    }
    Ok(Value::Int(r))
}

/// Rounds a float result to its type (`f32`, `f16`, `bf16` are rounded to f32).
fn float_result(r: f64, ty: &Type) -> Value {
    match ty {
        Type::Scalar(_) => Value::Float(r as f32 as f64),
        _ => Value::Float(r),
    }
}

fn arith(name: &str, a: &Value, b: &Value, ty: &Type) -> Result<Value, String> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let (x, y) = (*x, *y);
            let symbol = match name {
                "add" => "+",
                "sub" => "-",
                "mul" => "*",
                "div" => "/",
                "rem" => "%",
                _ => name,
            };
            let overflow = || format!("integer overflow: {x} {symbol} {y}");
            let r = match name {
                "add" => x.checked_add(y),
                "sub" => x.checked_sub(y),
                "mul" => x.checked_mul(y),
                "div" | "rem" if y == 0 => return Err(format!("division by zero: {x} {symbol} 0")),
                "div" => builtins::int_div(x, y),
                "rem" => builtins::int_rem(x, y),
                "min" => Some(x.min(y)),
                _ => Some(x.max(y)),
            };
            int_result(r.ok_or_else(overflow)?, ty, overflow)
        }
        (Value::Float(x), Value::Float(y)) => {
            let (x, y) = (*x, *y);
            let r = match name {
                "add" => x + y,
                "sub" => x - y,
                "mul" => x * y,
                "div" => x / y,
                "rem" => x % y,
                "min" => x.min(y),
                _ => x.max(y),
            };
            Ok(float_result(r, ty))
        }
        _ => Err(internal(name, a)),
    }
}

fn logic(name: &str, a: &Value, b: &Value) -> Result<Value, String> {
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => Value::Bool(match name {
            "and" => *x && *y,
            "or" => *x || *y,
            _ => x ^ y,
        }),
        (Value::Int(x), Value::Int(y)) => Value::Int(match name {
            "and" => x & y,
            "or" => x | y,
            _ => x ^ y,
        }),
        _ => return Err(internal(name, a)),
    })
}

fn unary(name: &str, a: &Value, ty: &Type) -> Result<Value, String> {
    match a {
        Value::Int(x) => {
            let overflow = || format!("integer overflow: {name}({x})");
            let r = if name == "neg" { x.checked_neg() } else { x.checked_abs() };
            int_result(r.ok_or_else(overflow)?, ty, overflow)
        }
        Value::Float(x) => Ok(float_result(if name == "neg" { -x } else { x.abs() }, ty)),
        other => Err(internal(name, other)),
    }
}

fn compare(op: &Op, a: &Value, b: &Value) -> Result<Value, String> {
    let predicate = op.attrs.get("predicate").and_then(|p| p.as_str()).unwrap_or("");
    macro_rules! cmp {
        ($x:expr, $y:expr) => {
            match predicate {
                "eq" => $x == $y,
                "ne" => $x != $y,
                "lt" => $x < $y,
                "le" => $x <= $y,
                "gt" => $x > $y,
                "ge" => $x >= $y,
                other => return Err(format!("internal error: predicate `{other}`")),
            }
        };
    }
    Ok(Value::Bool(match (a, b) {
        (Value::Int(x), Value::Int(y)) => cmp!(x, y),
        // Rust's float comparisons are the plan's: ordered, except `ne` (true on NaN).
        (Value::Float(x), Value::Float(y)) => cmp!(x, y),
        (Value::Bool(x), Value::Bool(y)) => cmp!(x, y),
        _ => return Err(internal("cmp", a)),
    }))
}

fn convert(a: &Value, ty: &Type) -> Result<Value, String> {
    let to_int = matches!(ty, Type::Int) || matches!(ty, Type::Scalar(s) if s == "i32");
    let to_float = matches!(ty, Type::Float) || matches!(ty, Type::Scalar(s) if s != "i32");
    if let Type::Tensor { .. } = ty {
        // `tensor.cast` between static and dynamic dims: the same elements.
        return Ok(a.clone());
    }
    match (a, to_int, to_float) {
        (Value::Int(x), true, _) => int_result(*x, ty, || format!("integer overflow: {x} does not fit in {ty}")),
        (Value::Float(x), true, _) => {
            // Truncation toward zero; NaN and values outside i64 are errors (language §7).
            if x.is_nan() || !(*x >= -9.223_372_036_854_776e18 && *x < 9.223_372_036_854_776e18) {
                return Err(format!("cannot convert {} to an integer: out of range", builtins::float_to_text(*x)));
            }
            let r = x.trunc() as i64;
            int_result(r, ty, || format!("integer overflow: {} does not fit in {ty}", builtins::float_to_text(*x)))
        }
        (Value::Bool(b), true, _) => Ok(Value::Int(*b as i64)),
        (Value::Int(x), _, true) => Ok(float_result(*x as f64, ty)),
        (Value::Float(x), _, true) => Ok(float_result(*x, ty)),
        (Value::Bool(b), _, true) => Ok(float_result(*b as i64 as f64, ty)),
        (Value::Int(x), _, _) if *ty == Type::Bool => Ok(Value::Bool(x & 1 != 0)),
        (Value::Float(x), _, _) if *ty == Type::Bool => Ok(Value::Bool(*x != 0.0)),
        _ => Err(format!("internal error: cannot convert a {} to {ty}", a.kind())),
    }
}
