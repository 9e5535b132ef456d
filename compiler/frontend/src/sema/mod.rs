//! The checker: resolves names, checks types and annotations, and builds [`hir::Module`].
//!
//! Items are checked in source order and independently, so one broken item does not hide
//! the errors of the others; diagnostics come out sorted by position.

mod annotations;
mod builtins;
mod callgraph;
mod calls;
mod models;
mod records;
mod resolve;
mod scope;
mod tensor;
mod http_headers;
mod tools;
mod typeck;

use crate::ast::{self, Item};
use crate::diagnostic::Diagnostic;
use crate::hir::{self, Param};
use crate::span::Span;
use crate::types::Ty;
pub(crate) use crate::{CheckMode, CheckOptions, Checked};

use resolve::item_name;
use typeck::BodyCx;

/// Checks a parsed program.
pub(crate) fn check(program: &ast::Program, options: &CheckOptions) -> Checked {
    let mut diags = Vec::new();
    let (mut globals, sigs) = resolve::collect(program, &mut diags);
    let mut failed = false;

    // Models first: their config tells callers what `generate` / `embed` may do.
    let mut models = Vec::new();
    for (item, (_, registered)) in program.items.iter().zip(&sigs) {
        let Item::Model(decl) = item else { continue };
        match models::check_model(decl, options, &mut diags) {
            Some(model) => {
                if *registered
                    && let Some(global) = globals.items.get_mut(&decl.name.name)
                    && let Some(config) = &model.config
                {
                    global.model_kind = Some(config.kind);
                    global.hidden_size = Some(config.hidden_size);
                    global.max_positions = config.max_positions;
                    global.architecture = Some(config.architecture.clone());
                    global.chat_template = Some(config.chat_template.clone());
                }
                models.push(model);
            }
            None => failed = true,
        }
    }

    let records = records::check_records(program, &sigs, &mut diags);
    failed |= records.is_none();
    if let Some(records) = &records {
        for record in records {
            if let Some(schema) = crate::json_schema::schema_of(records, &record.name) {
                globals.record_schemas.insert(record.name.clone(), schema);
            }
        }
    }
    let mut tools = Vec::new();
    let mut fns = Vec::new();
    let mut agents = Vec::new();
    let mut agent_graph: (Vec<String>, Vec<Vec<(String, Span)>>) = Default::default();
    let mut fn_graph: (Vec<String>, Vec<Vec<(String, Span)>>) = Default::default();
    for (item, ((params, ret), registered)) in program.items.iter().zip(&sigs) {
        match item {
            Item::Model(_) | Item::Record(_) => {}
            Item::Tool(decl) => match tools::check_tool(decl, params, ret.as_ref(), &globals, &mut diags) {
                Some(tool) => tools.push(tool),
                None => failed = true,
            },
            Item::Fn(decl) => {
                let (checked, calls) = tensor::check_fn(decl, params, ret.as_ref(), &globals, &mut diags);
                if *registered {
                    fn_graph.0.push(decl.name.name.clone());
                    fn_graph.1.push(calls);
                }
                match checked {
                    Some(f) => fns.push(f),
                    None => failed = true,
                }
            }
            Item::Agent(decl) => {
                let (checked, calls) = check_agent(decl, params, ret.as_ref(), &globals, &mut diags);
                if *registered {
                    agent_graph.0.push(decl.name.name.clone());
                    agent_graph.1.push(calls);
                }
                match checked {
                    Some(a) => agents.push(a),
                    None => failed = true,
                }
            }
        }
    }
    callgraph::report_cycles("agents", &agent_graph.0, &agent_graph.1, &mut diags);
    callgraph::report_cycles("fns", &fn_graph.0, &fn_graph.1, &mut diags);

    if options.mode == CheckMode::Build {
        check_main(program, &sigs, &mut diags);
    }

    // Every failure reports an error; this guards the `module is None iff error` contract.
    if failed && !diags.iter().any(Diagnostic::is_error) {
        let span = program.items.first().map_or(Span::default(), |i| item_name(i).span);
        diags.push(Diagnostic::error("internal error: the checker failed without a diagnostic", span));
    }
    diags.sort_by_key(|d| d.primary_span().map_or(0, |s| s.start));
    let module = if diags.iter().any(Diagnostic::is_error) {
        None
    } else {
        Some(hir::Module { models, tools, fns, agents, records: records.unwrap_or_default() })
    };
    Checked { module, diagnostics: diags }
}

fn check_agent(
    decl: &ast::AgentDecl,
    params: &[(String, Option<Ty>)],
    ret: Option<&Ty>,
    globals: &resolve::Globals,
    diags: &mut Vec<Diagnostic>,
) -> (Option<hir::Agent>, Vec<(String, Span)>) {
    let mut sla_ms = None;
    let mut objective = None;
    let mut ok = true;
    for annotation in &decl.annotations {
        match annotation.name.name.as_str() {
            "sla" if sla_ms.is_none() => {
                sla_ms = annotations::sla(annotation, diags);
                ok &= sla_ms.is_some();
            }
            "objective" if objective.is_none() => {
                objective = annotations::objective(annotation, diags);
                ok &= objective.is_some();
            }
            "sla" | "objective" => {
                diags.push(annotations::duplicate(annotation));
                ok = false;
            }
            _ => {
                diags.push(annotations::misplaced(annotation));
                ok = false;
            }
        }
    }
    let mut cx = BodyCx::new(globals, diags);
    cx.ret = ret.cloned();
    cx.declare_params(&decl.params, params);
    let body = cx.agent_body(&decl.body, ret);
    let calls = std::mem::take(&mut cx.calls);
    let locals = cx.scopes.locals.clone();
    let build = || {
        let body = body?;
        let params = params
            .iter()
            .zip(&decl.params)
            .map(|((name, ty), p)| Some(Param { name: name.clone(), ty: ty.clone()?, span: p.span }))
            .collect::<Option<Vec<_>>>()?;
        ok.then(|| hir::Agent {
            name: decl.name.name.clone(),
            params,
            locals,
            ret: ret.cloned().unwrap_or(Ty::Unit),
            sla_ms,
            objective,
            body,
            span: decl.span,
        })
    };
    (build(), calls)
}

/// `agentc build` needs `agent main()` or `agent main(args: list<text>)`.
fn check_main(program: &ast::Program, sigs: &[(resolve::Signature, bool)], diags: &mut Vec<Diagnostic>) {
    let main = program.items.iter().zip(sigs).find_map(|(item, (sig, registered))| match item {
        Item::Agent(a) if a.name.name == "main" && *registered => Some((a, sig)),
        _ => None,
    });
    let Some((agent, (params, _))) = main else {
        diags.push(
            Diagnostic::error("no `main` agent", Span::new(0, 0))
                .with_help("an executable starts at `agent main(args: list<text>) -> text`"),
        );
        return;
    };
    let list_text = Ty::List(Box::new(Ty::Text));
    let fine = match params.as_slice() {
        [] => true,
        [(_, Some(ty))] => *ty == list_text,
        [(_, None)] => true, // the type error is already reported
        _ => false,
    };
    if !fine {
        let span = agent.params.first().map_or(agent.name.span, |p| p.span);
        diags.push(
            Diagnostic::error("`main` takes no parameters or one `list<text>`", span)
                .with_help("write `agent main(args: list<text>) -> text`"),
        );
    }
}
