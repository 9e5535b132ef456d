//! Lowers declarations: models, tools, tensor functions and agents, in that order and in
//! source order within each kind, so the output is deterministic.

use agentc_dialects::workflow::{self as wf, Attempts, ModelDecl};
use agentc_frontend::hir::{self, ModelKind, Objective, ToolKind};
use melior::ir::attribute::TypeAttribute;
use melior::ir::r#type::FunctionType;
use melior::ir::{Module, Type};

use super::body::{BodyLowerer, Mode};
use super::builder::Builder;
use super::LowerError;
use crate::ir::{Blk, Op};

/// Lowers a checked module to a new MLIR module at the workflow level.
pub fn lower_module<'c>(builder: &Builder<'c>, module: &hir::Module) -> Result<Module<'c>, LowerError> {
    let context = builder.context;
    let out = Module::new(builder.loc(hir::Span::default()));
    let body = Blk(out.body().to_raw());
    for model in &module.models {
        let (kind, architecture, hidden) = match &model.config {
            Some(config) => (
                match config.kind {
                    ModelKind::Decoder => "decoder",
                    ModelKind::Encoder => "encoder",
                },
                config.architecture.as_str(),
                config.hidden_size as i64,
            ),
            None => ("unknown", "", 0),
        };
        let decl = ModelDecl {
            name: &model.name,
            path: &model.path,
            architecture,
            kind,
            hidden_size: hidden,
            dtype: model.dtype.map_or("", |d| d.name()),
            int8_activations: model.int8_activations,
        };
        builder.append1_op(body, wf::model(context, &decl, builder.loc(model.span)))?;
    }
    // The templates `chat` calls render with, read by the checker.
    let chat_templates: std::collections::BTreeMap<String, hir::ChatTemplate> = module
        .models
        .iter()
        .filter_map(|m| match m.config.as_ref().map(|c| &c.chat_template) {
            Some(Ok(Some(template))) => Some((m.name.clone(), template.clone())),
            _ => None,
        })
        .collect();
    for tool in &module.tools {
        lower_tool(builder, body, tool)?;
    }
    for function in &module.fns {
        let params: Vec<Type> = function.params.iter().map(|p| builder.agent_type(&p.ty)).collect::<Result<_, _>>()?;
        let result = builder.agent_type(&function.ret)?;
        let func = function_op(builder, body, &function.name, &params, &[result], true, function.span)?;
        func.set_attribute(wf::FN_ATTR, builder.unit());
        let entry = func.region_entry(0).ok_or_else(|| LowerError("func.func without a body".into()))?;
        let mut lowerer = BodyLowerer::new(builder, Mode::Tensor, &function.locals);
        lowerer.lower_fn_body(entry, function)?;
    }
    for agent in &module.agents {
        let params: Vec<Type> = agent.params.iter().map(|p| builder.agent_type(&p.ty)).collect::<Result<_, _>>()?;
        let result = builder.agent_type(&agent.ret)?;
        let func = function_op(builder, body, &agent.name, &params, &[result], agent.name != "main", agent.span)?;
        func.set_attribute(wf::AGENT_ATTR, builder.unit());
        if let Some(sla) = agent.sla_ms {
            func.set_attribute(wf::SLA_ATTR, builder.i64_attr(sla as i64));
        }
        if let Some(objective) = agent.objective {
            let text = match objective {
                Objective::Latency => "latency",
                Objective::Cost => "cost",
            };
            func.set_attribute(wf::OBJECTIVE_ATTR, builder.string(text));
        }
        let entry = func.region_entry(0).ok_or_else(|| LowerError("func.func without a body".into()))?;
        let mut lowerer = BodyLowerer::new(builder, Mode::Agent, &agent.locals)
            .with_chat_templates(&chat_templates)
            .with_records(&module.records);
        lowerer.lower_agent_body(entry, agent)?;
    }
    Ok(out)
}

/// Appends an empty `func.func` (entry block with the parameters as arguments).
fn function_op<'c>(
    builder: &Builder<'c>,
    module_body: Blk,
    name: &str,
    params: &[Type<'c>],
    results: &[Type<'c>],
    private: bool,
    span: hir::Span,
) -> Result<Op, LowerError> {
    let function_type = FunctionType::new(builder.context, params, results);
    let mut attributes = vec![
        ("sym_name", builder.string(name)),
        ("function_type", TypeAttribute::new(function_type.into()).into()),
    ];
    if private {
        attributes.push(("sym_visibility", builder.string("private")));
    }
    builder.emit_with_regions(module_body, "func.func", &[], &[], &attributes, &[Some(params.to_vec())], builder.loc(span))
}

/// A tool becomes a private function over text parameters whose body builds the request
/// (`workflow.exec` or `workflow.http`) from them.
fn lower_tool(builder: &Builder, module_body: Blk, tool: &hir::Tool) -> Result<(), LowerError> {
    let context = builder.context;
    let text = wf::text_type(context);
    let params = vec![text; tool.params.len()];
    let func = function_op(builder, module_body, &tool.name, &params, &[text], true, tool.span)?;
    func.set_attribute(wf::TOOL_ATTR, builder.unit());
    let entry = func.region_entry(0).ok_or_else(|| LowerError("func.func without a body".into()))?;
    let mut lowerer = BodyLowerer::new(builder, Mode::Agent, &tool.locals);
    lowerer.bind_params(entry);
    let attempts = Attempts {
        timeout_ms: tool.timeout_ms.unwrap_or(0) as i64,
        retries: tool.retries as i64,
        backoff_ms: tool.backoff_ms.map(|n| n as i64),
        max_output: tool.max_output.map(|n| n as i64),
    };
    let location = builder.loc(tool.span);
    let result = match &tool.kind {
        ToolKind::Exec { program, args, stdin } => {
            let mut values = Vec::new();
            for arg in args {
                values.push(lowerer.value(entry, arg)?);
            }
            let list_type = wf::list_type(context, text);
            let argv = builder.emit1(entry, wf::LIST_LITERAL, &values, list_type, &[], location)?;
            let stdin = match stdin {
                Some(expr) => Some(lowerer.value(entry, expr)?),
                None => None,
            };
            builder.append1(entry, wf::exec(context, program, argv.view(), stdin.map(|v| v.view()), &attempts, location))?
        }
        ToolKind::Http { method, url_template, url_params, body, headers } => {
            let arguments = entry.arguments();
            let values: Vec<_> = url_params.iter().map(|&i| arguments[i].view()).collect();
            let names: Vec<&str> = url_params.iter().map(|&i| tool.params[i].name.as_str()).collect();
            let url = builder.append1(entry, wf::url_template(context, url_template, &names, &values, location))?;
            let mut extras = wf::HttpExtras { content_type: None, headers: headers.iter().map(header_template).collect() };
            let body = match body {
                Some(hir::HttpBody::Text(expr)) => Some(lowerer.value(entry, expr)?),
                Some(hir::HttpBody::Json(fields)) => {
                    let mut values = Vec::with_capacity(fields.len());
                    for (_, expr) in fields {
                        values.push(lowerer.value(entry, expr)?);
                    }
                    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                    let views: Vec<_> = values.iter().map(|v| v.view()).collect();
                    extras.content_type = Some("application/json");
                    Some(builder.append1(entry, wf::json_object(context, &keys, &views, location))?)
                }
                None => None,
            };
            let method = match method {
                hir::HttpMethod::Get => "get",
                hir::HttpMethod::Post => "post",
            };
            builder.append1(entry, wf::http(context, method, url.view(), body.map(|v| v.view()), &attempts, &extras, location))?
        }
    };
    builder.emit(entry, "func.return", &[result], &[], &[], location)?;
    Ok(())
}

/// A header as `workflow.http` holds it: (name, value template), where `{NAME}` stands for
/// environment variable `NAME` (only its name is in the IR) and `{{`/`}}` for braces.
fn header_template(header: &hir::HttpHeader) -> (String, String) {
    let mut template = String::new();
    for part in &header.value {
        match part {
            hir::HeaderPart::Text(text) => template.push_str(&text.replace('{', "{{").replace('}', "}}")),
            hir::HeaderPart::Env(name) => template.push_str(&format!("{{{name}}}")),
        }
    }
    (header.name.clone(), template)
}

impl<'c> Builder<'c> {
    /// Appends an op without results built by a dialect builder.
    fn append1_op(&self, block: Blk, op: Result<melior::ir::Operation<'c>, melior::Error>) -> Result<Op, LowerError> {
        let op = op.map_err(|e| LowerError(format!("cannot build an op: {e}")))?;
        Ok(self.append(block, op))
    }
}
