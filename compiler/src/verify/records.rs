//! Semantic rules of the workflow level's records: IRDL sees `!workflow.record<"NAME">`
//! and the ops' attributes but not that they agree. A record type's fields are what its
//! `record_new`s name (every one the same names and field types); a `record_get` reads a
//! field at its position with the field's type; a `json_parse`'s schema is an object schema
//! whose `required` lists the record's fields in order; a `record_new`'s operands are
//! `workflow.field_value`s (the plan takes the values themselves).

use std::collections::BTreeMap;

use agentc_dialects::workflow as wf;
use melior::ir::attribute::{ArrayAttribute, StringAttribute};

use crate::ir::Op;

/// A record type's fields as one `record_new` gives them: names and printed types.
struct Fields {
    names: Vec<String>,
    types: Vec<String>,
}

/// The record name of a printed `!workflow.record<"NAME">` type.
fn record_name(ty: &str) -> Option<&str> {
    ty.strip_prefix("!workflow.record<\"")?.strip_suffix("\">")
}

fn string_array(op: Op, name: &str) -> Option<Vec<String>> {
    let array = ArrayAttribute::try_from(op.attribute(name)?).ok()?;
    (0..array.len()).map(|i| array.element(i).ok().and_then(|e| StringAttribute::try_from(e).ok()).map(wf::string_value)).collect()
}

/// Checks the record ops among `ops` (every op of the module's functions), reporting each
/// problem at its op.
pub fn verify(ops: &[Op], report: &mut dyn FnMut(Op, String)) {
    let mut records: BTreeMap<String, Fields> = BTreeMap::new();
    for &op in ops.iter().filter(|op| op.name() == wf::RECORD_NEW) {
        let result = op.result(0).ty().to_string();
        let Some(record) = record_name(&result) else { continue };
        let Some(names) = string_array(op, "fields") else {
            report(op, "`fields` must be an array of field names".into());
            continue;
        };
        if names.len() != op.operand_count() {
            report(op, format!("{} `fields` for {} operands", names.len(), op.operand_count()));
            continue;
        }
        if let Some(twice) = names.iter().enumerate().find_map(|(i, n)| names[..i].contains(n).then_some(n)) {
            report(op, format!("field `{twice}` is named twice"));
            continue;
        }
        let mut types = Vec::with_capacity(names.len());
        for i in 0..op.operand_count() {
            match op.operand(i).defining_op().filter(|d| d.name() == wf::FIELD_VALUE) {
                Some(field) => types.push(field.operand(0).ty().to_string()),
                None => {
                    report(op, format!("operand {i} must be a workflow.field_value"));
                    break;
                }
            }
        }
        if types.len() != names.len() {
            continue;
        }
        let fields = Fields { names, types };
        match records.get(record) {
            Some(known) if known.names != fields.names || known.types != fields.types => {
                let show = |f: &Fields| f.names.iter().zip(&f.types).map(|(n, t)| format!("{n}: {t}")).collect::<Vec<_>>().join(", ");
                report(op, format!("record `{record}` is built with fields ({}) here but ({}) elsewhere", show(&fields), show(known)));
            }
            Some(_) => {}
            None => {
                records.insert(record.to_string(), fields);
            }
        }
    }
    for &op in ops {
        let name = op.name();
        if name == wf::RECORD_GET {
            let record_ty = op.operand(0).ty().to_string();
            let (Some(record), Some(fields)) = (record_name(&record_ty), record_name(&record_ty).and_then(|r| records.get(r))) else { continue };
            let field = wf::string_attr(&op.view(), "field").unwrap_or_default();
            let index = wf::int_attr(&op.view(), "index").unwrap_or(-1);
            let at = usize::try_from(index).ok().filter(|&i| i < fields.names.len());
            match at {
                Some(i) if fields.names[i] == field => {
                    let result = op.result(0).ty().to_string();
                    if result != fields.types[i] {
                        report(op, format!("field `{field}` of record `{record}` is {}, not {result}", fields.types[i]));
                    }
                }
                _ => report(op, format!("record `{record}` has no field `{field}` at index {index}")),
            }
        } else if name == wf::JSON_PARSE {
            let result = op.result(0).ty().to_string();
            let Some(record) = record_name(&result) else {
                report(op, format!("the result must be a record, not {result}"));
                continue;
            };
            let schema = wf::string_attr(&op.view(), "schema").unwrap_or_default();
            let parsed: Option<serde_json::Value> = serde_json::from_str(&schema).ok();
            let required: Option<Vec<String>> = parsed
                .as_ref()
                .filter(|s| s.get("type").and_then(|t| t.as_str()) == Some("object"))
                .and_then(|s| s.get("required")?.as_array()?.iter().map(|v| v.as_str().map(str::to_string)).collect());
            match (required, records.get(record)) {
                (None, _) => report(op, "`schema` must be a JSON object schema with `required` fields".into()),
                (Some(required), Some(fields)) if required != fields.names => {
                    report(op, format!("`schema` requires ({}) but record `{record}` has fields ({})", required.join(", "), fields.names.join(", ")));
                }
                _ => {}
            }
        }
    }
}
