//! The emit context of lowering: the MLIR context, the source file for locations, and
//! small helpers that append ops at the end of a block and return handles.

use agentc_frontend::hir::{DType, Span, Ty};
use melior::ir::attribute::{FloatAttribute, IntegerAttribute, StringAttribute};
use melior::ir::operation::OperationBuilder;
use melior::ir::{Attribute, Block, RegionLike, Identifier, Location, Operation, Region, Type, Value};
use melior::Context;

use crate::ir::{Blk, Op, Val};
use super::LowerError;

/// Everything lowering needs to create ops: one bundle instead of many arguments.
pub struct Builder<'c> {
    /// The MLIR context.
    pub context: &'c Context,
    file: String,
    line_starts: Vec<usize>,
    source_len: usize,
    char_columns: Vec<(usize, String)>,
}

impl<'c> Builder<'c> {
    /// A builder whose locations point into `source`, named `file`.
    pub fn new(context: &'c Context, file: &str, source: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        // Lines with non-ASCII text need character columns; keep those lines' text.
        let char_columns = line_starts
            .iter()
            .enumerate()
            .filter_map(|(index, &start)| {
                let end = line_starts.get(index + 1).copied().unwrap_or(source.len());
                let line = &source[start..end];
                (!line.is_ascii()).then(|| (index, line.to_string()))
            })
            .collect();
        Builder { context, file: file.to_string(), line_starts, source_len: source.len(), char_columns }
    }

    /// The `FileLineColLoc` of the start of `span`.
    pub fn loc(&self, span: Span) -> Location<'c> {
        let offset = (span.start as usize).min(self.source_len);
        let line = self.line_starts.partition_point(|&start| start <= offset).saturating_sub(1);
        let byte_column = offset - self.line_starts[line];
        let column = match self.char_columns.binary_search_by_key(&line, |(l, _)| *l) {
            Ok(found) => {
                let text = &self.char_columns[found].1;
                text.char_indices().take_while(|(i, _)| *i < byte_column).count()
            }
            Err(_) => byte_column,
        };
        Location::new(self.context, &self.file, line + 1, column + 1)
    }

    /// Parses an MLIR type written as text (types here are always well formed).
    pub fn parse_type(&self, text: &str) -> Result<Type<'c>, LowerError> {
        Type::parse(self.context, text).ok_or_else(|| LowerError(format!("cannot build the MLIR type `{text}`")))
    }

    /// The MLIR type of a checked type in agent code: text, i64, f64, i1, lists,
    /// tensors, and scalar element types as themselves (`f32`).
    pub fn agent_type(&self, ty: &Ty) -> Result<Type<'c>, LowerError> {
        self.parse_type(&agent_type_text(ty)?)
    }

    /// The MLIR type of a checked type inside a fn body, where scalars are 0-d tensors.
    pub fn tensor_type(&self, ty: &Ty) -> Result<Type<'c>, LowerError> {
        match ty {
            Ty::Scalar(dtype) => self.parse_type(&format!("tensor<{}>", dtype.name())),
            other => self.agent_type(other),
        }
    }

    /// A string attribute.
    pub fn string(&self, value: &str) -> Attribute<'c> {
        StringAttribute::new(self.context, value).into()
    }

    /// An i64 integer attribute.
    pub fn i64_attr(&self, value: i64) -> Attribute<'c> {
        IntegerAttribute::new(melior::ir::r#type::IntegerType::new(self.context, 64).into(), value).into()
    }

    /// A unit attribute.
    pub fn unit(&self) -> Attribute<'c> {
        Attribute::unit(self.context)
    }

    /// Appends `op` at the end of `block` and returns its handle.
    pub fn append(&self, block: Blk, op: Operation<'c>) -> Op {
        let raw = op.into_raw();
        unsafe { mlir_sys::mlirBlockAppendOwnedOperation(block.0, raw) };
        Op(raw)
    }

    /// Builds a generic op from parts and appends it to `block`.
    pub fn emit(
        &self,
        block: Blk,
        name: &str,
        operands: &[Val],
        results: &[Type<'c>],
        attributes: &[(&str, Attribute<'c>)],
        location: Location<'c>,
    ) -> Result<Op, LowerError> {
        let operands: Vec<Value> = operands.iter().map(|v| v.view()).collect();
        let attributes: Vec<(Identifier, Attribute)> =
            attributes.iter().map(|(name, value)| (Identifier::new(self.context, name), *value)).collect();
        let op = OperationBuilder::new(name, location)
            .add_operands(&operands)
            .add_results(results)
            .add_attributes(&attributes)
            .build()
            .map_err(|e| LowerError(format!("cannot build `{name}`: {e}")))?;
        Ok(self.append(block, op))
    }

    /// Like [`Builder::emit`] for an op with exactly one result; returns that result.
    pub fn emit1(
        &self,
        block: Blk,
        name: &str,
        operands: &[Val],
        result: Type<'c>,
        attributes: &[(&str, Attribute<'c>)],
        location: Location<'c>,
    ) -> Result<Val, LowerError> {
        Ok(self.emit(block, name, operands, &[result], attributes, location)?.result(0))
    }

    /// Appends an op built by a dialect builder and returns its only result.
    pub fn append1(&self, block: Blk, op: Result<Operation<'c>, melior::Error>) -> Result<Val, LowerError> {
        let op = op.map_err(|e| LowerError(format!("cannot build an op: {e}")))?;
        Ok(self.append(block, op).result(0))
    }

    /// Builds an op with regions, each region holding one block with the given argument
    /// types; appends it to `block` and returns it (fill the blocks with
    /// [`crate::ir::Op::region_entry`]). An empty argument list `None` makes an empty region.
    #[allow(clippy::too_many_arguments)]
    pub fn emit_with_regions(
        &self,
        block: Blk,
        name: &str,
        operands: &[Val],
        results: &[Type<'c>],
        attributes: &[(&str, Attribute<'c>)],
        regions: &[Option<Vec<Type<'c>>>],
        location: Location<'c>,
    ) -> Result<Op, LowerError> {
        let operands: Vec<Value> = operands.iter().map(|v| v.view()).collect();
        let attributes: Vec<(Identifier, Attribute)> =
            attributes.iter().map(|(name, value)| (Identifier::new(self.context, name), *value)).collect();
        let regions: Vec<Region> = regions
            .iter()
            .map(|arguments| {
                let region = Region::new();
                if let Some(arguments) = arguments {
                    let arguments: Vec<(Type, Location)> = arguments.iter().map(|t| (*t, location)).collect();
                    region.append_block(Block::new(&arguments));
                }
                region
            })
            .collect();
        let op = OperationBuilder::new(name, location)
            .add_operands(&operands)
            .add_results(results)
            .add_attributes(&attributes)
            .add_regions_vec(regions)
            .build()
            .map_err(|e| LowerError(format!("cannot build `{name}`: {e}")))?;
        Ok(self.append(block, op))
    }

    /// `arith.constant` of an i64.
    pub fn int_const(&self, block: Blk, value: i64, location: Location<'c>) -> Result<Val, LowerError> {
        let ty = melior::ir::r#type::IntegerType::new(self.context, 64).into();
        self.emit1(block, "arith.constant", &[], ty, &[("value", IntegerAttribute::new(ty, value).into())], location)
    }

    /// `arith.constant` of an f64.
    pub fn float_const(&self, block: Blk, value: f64, location: Location<'c>) -> Result<Val, LowerError> {
        let ty = Type::float64(self.context);
        self.emit1(block, "arith.constant", &[], ty, &[("value", FloatAttribute::new(self.context, ty, value).into())], location)
    }

    /// `arith.constant` of an i1.
    pub fn bool_const(&self, block: Blk, value: bool, location: Location<'c>) -> Result<Val, LowerError> {
        let ty = melior::ir::r#type::IntegerType::new(self.context, 1).into();
        self.emit1(block, "arith.constant", &[], ty, &[("value", IntegerAttribute::new(ty, value as i64).into())], location)
    }

    /// `arith.constant dense<value> : tensor<dtype>`: a scalar inside a fn body.
    pub fn scalar_tensor_const(&self, block: Blk, value: f64, dtype: DType, location: Location<'c>) -> Result<Val, LowerError> {
        let ty = self.parse_type(&format!("tensor<{}>", dtype.name()))?;
        // MLIR's float literals need a `.` (`8e0` does not parse; `8.0e0` does).
        let literal = if dtype.is_float() {
            let shortest = format!("{value:e}");
            if shortest.contains('.') { shortest } else { shortest.replacen('e', ".0e", 1) }
        } else {
            format!("{}", value as i64)
        };
        let attribute = Attribute::parse(self.context, &format!("dense<{literal}> : tensor<{}>", dtype.name()))
            .ok_or_else(|| LowerError(format!("cannot build the constant {literal}")))?;
        self.emit1(block, "arith.constant", &[], ty, &[("value", attribute)], location)
    }
}

/// The MLIR spelling of a checked type in agent code.
pub fn agent_type_text(ty: &Ty) -> Result<String, LowerError> {
    Ok(match ty {
        Ty::Text => "!workflow.text".into(),
        Ty::Int => "i64".into(),
        Ty::Float => "f64".into(),
        Ty::Bool => "i1".into(),
        Ty::List(elem) => format!("!workflow.list<{}>", agent_type_text(elem)?),
        // Record names are identifiers: no escaping needed inside the quotes.
        Ty::Record(name) => format!("!workflow.record<\"{name}\">"),
        // A message is its `[role, content]` pair (docs/language.md, "chat").
        Ty::Message => "!workflow.list<!workflow.text>".into(),
        Ty::Tensor { .. } => ty.to_string(),
        Ty::Scalar(dtype) => dtype.name().into(),
        Ty::Unit => return Err(LowerError("a value of type `()` reached lowering".into())),
    })
}
