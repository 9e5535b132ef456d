//! The JSON Schema of a record type: what `json: RecordName` on `generate`/`chat` hands to
//! the constrained-decoding engine, so the generated text always parses as the record.
//!
//! The schema is closed and complete: `{"type":"object","properties":{...},"required":[every
//! field],"additionalProperties":false}`, fields in declaration order, nested records
//! inlined (records never contain themselves, so the schema is finite), lists as
//! `{"type":"array","items":...}`, `int` as `integer`, `float` as `number`. Compact JSON, the
//! same text for the same declaration.

use crate::hir::{Module, Record};
use crate::types::Ty;

/// The JSON Schema text of record type `name` of `module`; `None` when it declares no such
/// record.
pub fn record_schema(module: &Module, name: &str) -> Option<String> {
    schema_of(&module.records, name)
}

/// The JSON Schema text of record type `name` among `records` (a module's record types).
pub fn schema_of(records: &[Record], name: &str) -> Option<String> {
    let mut out = String::new();
    write_record(records, records.iter().find(|r| r.name == name)?, &mut out)?;
    Some(out)
}

fn write_record(module: &[Record], record: &Record, out: &mut String) -> Option<()> {
    out.push_str(r#"{"type":"object","properties":{"#);
    for (i, (field, ty)) in record.fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_string(field));
        out.push(':');
        write_type(module, ty, out)?;
    }
    out.push_str(r#"},"required":["#);
    let required: Vec<String> = record.fields.iter().map(|(f, _)| json_string(f)).collect();
    out.push_str(&required.join(","));
    out.push_str(r#"],"additionalProperties":false}"#);
    Some(())
}

fn write_type(module: &[Record], ty: &Ty, out: &mut String) -> Option<()> {
    match ty {
        Ty::Text => out.push_str(r#"{"type":"string"}"#),
        Ty::Int => out.push_str(r#"{"type":"integer"}"#),
        Ty::Float => out.push_str(r#"{"type":"number"}"#),
        Ty::Bool => out.push_str(r#"{"type":"boolean"}"#),
        Ty::List(elem) => {
            out.push_str(r#"{"type":"array","items":"#);
            write_type(module, elem, out)?;
            out.push('}');
        }
        Ty::Record(name) => write_record(module, module.iter().find(|r| r.name == *name)?, out)?,
        // The checker allows no other field type.
        _ => return None,
    }
    Some(())
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckMode, CheckOptions, check_source};

    fn module(source: &str) -> Module {
        let options = CheckOptions { mode: CheckMode::Check, base_dir: ".".into() };
        let checked = check_source(source, &options);
        checked.module.unwrap_or_else(|| panic!("checks: {:?}", checked.diagnostics))
    }

    #[test]
    fn flat_record() {
        let m = module("record Answer { city: text, score: int, ratio: float, tags: list<text>, ok: bool }");
        assert_eq!(
            record_schema(&m, "Answer").unwrap(),
            concat!(
                r#"{"type":"object","properties":{"city":{"type":"string"},"score":{"type":"integer"},"#,
                r#""ratio":{"type":"number"},"tags":{"type":"array","items":{"type":"string"}},"ok":{"type":"boolean"}},"#,
                r#""required":["city","score","ratio","tags","ok"],"additionalProperties":false}"#
            )
        );
    }

    #[test]
    fn nested_records_are_inlined_in_declaration_order() {
        // Declared after its use: records may refer to later ones.
        let m = module("record Outer {\n  zs: list<list<Inner>>\n  a: Inner\n}\nrecord Inner { y: int }");
        let inner = r#"{"type":"object","properties":{"y":{"type":"integer"}},"required":["y"],"additionalProperties":false}"#;
        let want = format!(
            r#"{{"type":"object","properties":{{"zs":{{"type":"array","items":{{"type":"array","items":{inner}}}}},"a":{inner}}},"required":["zs","a"],"additionalProperties":false}}"#
        );
        assert_eq!(record_schema(&m, "Outer").unwrap(), want);
        // The schema is JSON.
        let parsed: serde_json::Value = serde_json::from_str(&want).unwrap();
        assert_eq!(parsed["required"][0], "zs");
    }

    #[test]
    fn empty_record_and_unknown_name() {
        let m = module("record Nothing {}");
        assert_eq!(
            record_schema(&m, "Nothing").unwrap(),
            r#"{"type":"object","properties":{},"required":[],"additionalProperties":false}"#
        );
        assert_eq!(record_schema(&m, "Missing"), None);
    }
}
