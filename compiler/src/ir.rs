//! Thin, copyable handles over MLIR's C API for the passes and the verifier.
//!
//! melior's safe types tie every value and operation to the lifetime of the block or
//! operation it was reached from, which makes in-place rewriting (move an op, replace all
//! uses, erase) fight the borrow checker. The passes work on these raw handles instead;
//! every function here is a direct call of the C API, and each documents what it needs.

use melior::ir::attribute::AttributeLike;
use melior::ir::operation::OperationLike;
use melior::ir::{Attribute, BlockRef, Location, OperationRef, Type, Value};
use mlir_sys::*;

/// A handle to an operation owned by the IR (never by this handle).
#[derive(Clone, Copy, Debug)]
pub struct Op(pub MlirOperation);

/// A handle to an SSA value.
#[derive(Clone, Copy, Debug)]
pub struct Val(pub MlirValue);

/// A handle to a block.
#[derive(Clone, Copy, Debug)]
pub struct Blk(pub MlirBlock);

impl PartialEq for Op {
    fn eq(&self, other: &Op) -> bool {
        self.0.ptr == other.0.ptr
    }
}

impl Op {
    /// The handle of a melior operation reference.
    pub fn of<'c: 'a, 'a>(op: &impl OperationLike<'c, 'a>) -> Op {
        Op(op.to_raw())
    }

    /// A melior view, for the attribute and printing helpers.
    pub fn view<'c, 'a>(self) -> OperationRef<'c, 'a> {
        // SAFETY: the handle points at a live operation (callers never keep handles to
        // erased operations).
        unsafe { OperationRef::from_raw(self.0) }
    }

    /// The context that owns the op. Keep the returned value in a local and borrow it
    /// (`let context = op.context(); … &context`): the `&Context` it derefs to points into it.
    pub fn context<'c>(self) -> melior::ContextRef<'c> {
        self.view().context()
    }

    /// The op's name (`workflow.concat`).
    pub fn name(self) -> String {
        self.view().name().as_string_ref().as_str().unwrap_or("").to_string()
    }

    /// Number of operands.
    pub fn operand_count(self) -> usize {
        unsafe { mlirOperationGetNumOperands(self.0) as usize }
    }

    /// Operand `i`.
    pub fn operand(self, i: usize) -> Val {
        Val(unsafe { mlirOperationGetOperand(self.0, i as isize) })
    }

    /// All operands.
    pub fn operands(self) -> Vec<Val> {
        (0..self.operand_count()).map(|i| self.operand(i)).collect()
    }

    /// Number of results.
    pub fn result_count(self) -> usize {
        unsafe { mlirOperationGetNumResults(self.0) as usize }
    }

    /// Result `i`.
    pub fn result(self, i: usize) -> Val {
        Val(unsafe { mlirOperationGetResult(self.0, i as isize) })
    }

    /// All results.
    pub fn results(self) -> Vec<Val> {
        (0..self.result_count()).map(|i| self.result(i)).collect()
    }

    /// Number of regions.
    pub fn region_count(self) -> usize {
        unsafe { mlirOperationGetNumRegions(self.0) as usize }
    }

    /// The blocks of region `i`, in order.
    pub fn region_blocks(self, i: usize) -> Vec<Blk> {
        let mut blocks = Vec::new();
        unsafe {
            let region = mlirOperationGetRegion(self.0, i as isize);
            let mut block = mlirRegionGetFirstBlock(region);
            while !block.ptr.is_null() {
                blocks.push(Blk(block));
                block = mlirBlockGetNextInRegion(block);
            }
        }
        blocks
    }

    /// Appends a new block with arguments of `types` to region `i` and returns it.
    pub fn append_block(self, i: usize, types: &[Type], location: Location) -> Blk {
        use melior::ir::r#type::TypeLike;
        let raw_types: Vec<MlirType> = types.iter().map(|t| t.to_raw()).collect();
        let raw_locations: Vec<MlirLocation> = types.iter().map(|_| location.to_raw()).collect();
        // SAFETY: the op is live and has region `i` (callers create it with that many); the
        // region takes ownership of the new block.
        unsafe {
            let region = mlirOperationGetRegion(self.0, i as isize);
            let block = mlirBlockCreate(raw_types.len() as isize, raw_types.as_ptr(), raw_locations.as_ptr());
            mlirRegionAppendOwnedBlock(region, block);
            Blk(block)
        }
    }

    /// The first block of region `i`, if the region has one.
    pub fn region_entry(self, i: usize) -> Option<Blk> {
        self.region_blocks(i).first().copied()
    }

    /// The operation's location.
    pub fn location<'c>(self) -> Location<'c> {
        unsafe { Location::from_raw(mlirOperationGetLocation(self.0)) }
    }

    /// The block holding this operation, if any.
    pub fn block(self) -> Option<Blk> {
        let block = unsafe { mlirOperationGetBlock(self.0) };
        (!block.ptr.is_null()).then_some(Blk(block))
    }

    /// The operation holding this one, if any.
    pub fn parent(self) -> Option<Op> {
        let parent = unsafe { mlirOperationGetParentOperation(self.0) };
        (!parent.ptr.is_null()).then_some(Op(parent))
    }

    /// The attribute `name`, if present.
    pub fn attribute<'c>(self, name: &str) -> Option<Attribute<'c>> {
        self.view().attribute(name).ok()
    }

    /// Whether attribute `name` is present.
    pub fn has_attribute(self, name: &str) -> bool {
        self.view().has_attribute(name)
    }

    /// Sets attribute `name` (inherent or discardable).
    pub fn set_attribute(self, name: &str, value: Attribute) {
        let name = melior::StringRef::new(name);
        unsafe { mlirOperationSetAttributeByName(self.0, name.to_raw(), value.to_raw()) }
    }

    /// Replaces operand `index` with `value`.
    pub fn set_operand(self, index: usize, value: Val) {
        unsafe { mlirOperationSetOperand(self.0, index as isize, value.0) }
    }

    /// Inserts the new operation `op` right before this one (in this operation's block,
    /// which takes ownership of it) and returns its handle.
    pub fn insert_before(self, op: melior::ir::Operation) -> Op {
        let raw = op.into_raw();
        // SAFETY: `self` is in a block, which takes ownership of `raw`.
        unsafe { mlirBlockInsertOwnedOperationBefore(mlirOperationGetBlock(self.0), self.0, raw) };
        Op(raw)
    }

    /// Moves this operation right before `other` (in any block).
    pub fn move_before(self, other: Op) {
        unsafe { mlirOperationMoveBefore(self.0, other.0) }
    }

    /// Unlinks and destroys the operation. Its results must have no uses left.
    pub fn erase(self) {
        unsafe { mlirOperationDestroy(self.0) }
    }

    /// A deep copy, not inserted anywhere (the caller inserts or erases it).
    pub fn clone_detached(self) -> Op {
        Op(unsafe { mlirOperationClone(self.0) })
    }

    /// Whether no result of the op has a use.
    pub fn results_unused(self) -> bool {
        self.results().iter().all(|r| !r.has_uses())
    }

    /// The operations nested in this one (all regions, all blocks), outermost first, in
    /// program order; this op is not included.
    pub fn nested_ops(self) -> Vec<Op> {
        let mut out = Vec::new();
        for region in 0..self.region_count() {
            for block in self.region_blocks(region) {
                for op in block.ops() {
                    out.push(op);
                    out.extend(op.nested_ops());
                }
            }
        }
        out
    }

    /// The index of this op's region that holds `block`, if any.
    pub fn region_index_of(self, block: Blk) -> Option<usize> {
        let region = unsafe { mlirBlockGetParentRegion(block.0) };
        (0..self.region_count()).find(|&i| unsafe { mlirOperationGetRegion(self.0, i as isize) }.ptr == region.ptr)
    }

    /// Sets a discardable f64 attribute.
    pub fn set_f64(self, name: &str, value: f64) {
        let context_ref = self.context();
        // SAFETY: `context_ref` outlives every use of `context` in this function.
    let context: &melior::Context = unsafe { context_ref.to_ref() };
        let attribute = melior::ir::attribute::FloatAttribute::new(context, melior::ir::Type::float64(context), value);
        self.set_attribute(name, attribute.into());
    }

    /// Sets a discardable i64 attribute (quantities that print best as integers: FLOPs,
    /// bytes, tokens), rounding and saturating `value`.
    pub fn set_i64(self, name: &str, value: f64) {
        let context_ref = self.context();
        // SAFETY: `context_ref` outlives every use of `context` in this function.
        let context: &melior::Context = unsafe { context_ref.to_ref() };
        let ty = melior::ir::r#type::IntegerType::new(context, 64).into();
        let attribute = melior::ir::attribute::IntegerAttribute::new(ty, value.round().clamp(0.0, i64::MAX as f64) as i64);
        self.set_attribute(name, attribute.into());
    }

    /// A discardable or inherent f64 (or integer) attribute as f64.
    pub fn f64_attr(self, name: &str) -> Option<f64> {
        let attribute = self.attribute(name)?;
        if let Ok(float) = melior::ir::attribute::FloatAttribute::try_from(attribute) {
            return Some(float.value());
        }
        melior::ir::attribute::IntegerAttribute::try_from(attribute).ok().map(|i| i.value() as f64)
    }

    /// Emits an error diagnostic at this op's location through the context's handlers.
    pub fn emit_error(self, message: &str) {
        emit_error(self.location(), message);
    }
}

impl Val {
    /// A melior view of the value.
    pub fn view<'c, 'a>(self) -> Value<'c, 'a> {
        unsafe { Value::from_raw(self.0) }
    }

    /// The value's type.
    pub fn ty<'c>(self) -> Type<'c> {
        unsafe { Type::from_raw(mlirValueGetType(self.0)) }
    }

    /// Whether anything uses the value.
    pub fn has_uses(self) -> bool {
        unsafe { !mlirOpOperandIsNull(mlirValueGetFirstUse(self.0)) }
    }

    /// The operations using this value (one entry per use).
    pub fn users(self) -> Vec<Op> {
        let mut users = Vec::new();
        unsafe {
            let mut operand = mlirValueGetFirstUse(self.0);
            while !mlirOpOperandIsNull(operand) {
                users.push(Op(mlirOpOperandGetOwner(operand)));
                operand = mlirOpOperandGetNextUse(operand);
            }
        }
        users
    }

    /// The op defining this value, or `None` for a block argument.
    pub fn defining_op(self) -> Option<Op> {
        unsafe {
            if mlirValueIsAOpResult(self.0) {
                Some(Op(mlirOpResultGetOwner(self.0)))
            } else {
                None
            }
        }
    }

    /// Replaces every use of this value with `with`.
    pub fn replace_all_uses_with(self, with: Val) {
        unsafe { mlirValueReplaceAllUsesOfWith(self.0, with.0) }
    }
}

impl Blk {
    /// The handle of a melior block reference.
    pub fn of(block: &BlockRef) -> Blk {
        use melior::ir::BlockLike;
        Blk(block.to_raw())
    }

    /// The operations of the block, in order (a snapshot: safe to mutate while iterating).
    pub fn ops(self) -> Vec<Op> {
        let mut ops = Vec::new();
        unsafe {
            let mut op = mlirBlockGetFirstOperation(self.0);
            while !op.ptr.is_null() {
                ops.push(Op(op));
                op = mlirOperationGetNextInBlock(op);
            }
        }
        ops
    }

    /// The block's arguments.
    pub fn arguments(self) -> Vec<Val> {
        unsafe {
            let count = mlirBlockGetNumArguments(self.0);
            (0..count).map(|i| Val(mlirBlockGetArgument(self.0, i))).collect()
        }
    }

    /// Appends the new operation `op` at the end of the block (which takes ownership of
    /// it) and returns its handle.
    pub fn append(self, op: melior::ir::Operation) -> Op {
        let raw = op.into_raw();
        // SAFETY: the block takes ownership of `raw`.
        unsafe { mlirBlockAppendOwnedOperation(self.0, raw) };
        Op(raw)
    }

    /// The block's terminator (its last operation), if it has operations.
    pub fn terminator(self) -> Option<Op> {
        self.ops().last().copied()
    }
}

/// Emits an error diagnostic at `location` through the context's diagnostic handlers.
pub fn emit_error(location: Location, message: &str) {
    // Interior NULs cannot cross the C API; they never occur in our messages, but be safe.
    let text = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
    unsafe { mlirEmitError(location.to_raw(), text.as_ptr()) }
}

/// The top-level operations of a module op's body.
pub fn module_ops(module: Op) -> Vec<Op> {
    module.region_entry(0).map(|b| b.ops()).unwrap_or_default()
}

/// The string value of a `sym_name` attribute, if the op has one.
pub fn symbol_name(op: Op) -> Option<String> {
    agentc_dialects::workflow::string_attr(&op.view(), "sym_name")
}
