//! The untyped syntax tree the parser produces.
//!
//! The grammar is deliberately generic where the language is regular: a model's source
//! and a tool's implementation are parsed as expressions (calls with positional and named
//! arguments), annotations as a loosest-binding postfix on any expression, and the checker
//! (`sema`) decides which names, arguments and annotations are valid where. That keeps the grammar small and lets the checker give precise diagnostics
//! ("`@likely` goes after an if condition") instead of parse errors.

pub use crate::span::{Ident, Span};

/// A whole `.agent` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// The declarations, in source order.
    pub items: Vec<Item>,
}

/// One top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `model NAME = hf("folder", dtype: "f16")`
    Model(ModelDecl),
    /// `tool NAME(PARAMS) -> TYPE = exec(...)` or `= http(...)`
    Tool(ToolDecl),
    /// `fn NAME(PARAMS) -> TYPE { tensor body }`
    Fn(FnDecl),
    /// `agent NAME(PARAMS) -> TYPE @annotations { workflow body }`
    Agent(AgentDecl),
    /// `record NAME { field: TYPE, ... }`
    Record(RecordDecl),
}

/// `record NAME { field: TYPE, ... }`: a named record type (fields separated by commas or
/// newlines). Values are built with `NAME(field: value, ...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordDecl {
    /// The record type's name.
    pub name: Ident,
    /// The fields in declaration order (the order of its JSON and its schema).
    pub fields: Vec<Param>,
    /// The whole declaration.
    pub span: Span,
}

/// `model NAME = SOURCE` where SOURCE is a call such as `hf("models/tiny-llama")`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDecl {
    /// The model's name, used as the receiver of `generate` / `embed`.
    pub name: Ident,
    /// The source expression, which the checker requires to be a call `hf("folder", ...)`.
    pub source: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `tool NAME(PARAMS) -> TYPE = IMPL` where IMPL is `exec(...)` or `http(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolDecl {
    /// The tool's name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Its declared result type.
    pub ret: TypeExpr,
    /// The implementation expression, which the checker requires to be a call
    /// `exec(...)` or `http(...)`.
    pub implementation: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `fn NAME(PARAMS) -> TYPE { BODY }`: a tensor function.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    /// The function's name.
    pub name: Ident,
    /// Its parameters (tensor or scalar element types).
    pub params: Vec<Param>,
    /// Its declared result type.
    pub ret: TypeExpr,
    /// Annotations written after the signature (none are valid; the checker says so).
    pub annotations: Vec<Annotation>,
    /// The body; its last expression is the result.
    pub body: Block,
    /// The whole declaration.
    pub span: Span,
}

/// `agent NAME(PARAMS) -> TYPE @sla(...) @objective(...) { BODY }`.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentDecl {
    /// The agent's name (`main` is the executable's entry point).
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Its declared result type.
    pub ret: TypeExpr,
    /// Annotations after the signature (`@sla`, `@objective` are valid here).
    pub annotations: Vec<Annotation>,
    /// The body.
    pub body: Block,
    /// The whole declaration.
    pub span: Span,
}

/// `NAME: TYPE` in a parameter list.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The parameter's name.
    pub name: Ident,
    /// Its declared type.
    pub ty: TypeExpr,
    /// `name: type` as a whole.
    pub span: Span,
}

/// A type as written.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// What was written.
    pub kind: TypeExprKind,
    /// Where.
    pub span: Span,
}

/// The forms a written type takes.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// A plain type name: `text`, `int`, `float`, `bool`, `f32`, `f16`, `bf16`, `i32`,
    /// `i64` (the checker rejects unknown names).
    Named(String),
    /// `list<T>`.
    List(Box<TypeExpr>),
    /// `tensor<4x?x384xf32>`: dimensions (`None` for `?`) and the element type name.
    Tensor {
        /// The dimensions, outermost first; `None` is a dynamic (`?`) dimension.
        dims: Vec<Option<u64>>,
        /// The element type name as written (`f32`, `i64`, ...).
        elem: String,
    },
}

/// An annotation: `@name` or `@name(args)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    /// The name after `@`.
    pub name: Ident,
    /// Its arguments (`@sla(latency: 3s)` has one named argument).
    pub args: Vec<Arg>,
    /// From `@` to the closing parenthesis.
    pub span: Span,
}

/// One argument: positional (`q`) or named (`max_tokens: 48`).
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The name for a named argument.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
    /// The whole argument.
    pub span: Span,
}

/// `{ stmt NEWLINE stmt ... }`. A final expression statement is the block's value.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The statements in order.
    pub stmts: Vec<Stmt>,
    /// From `{` to `}`.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `let NAME (: TYPE)? = VALUE`
    Let {
        /// The bound name.
        name: Ident,
        /// The optional declared type.
        ty: Option<TypeExpr>,
        /// The value.
        value: Expr,
        /// The whole statement.
        span: Span,
    },
    /// `NAME = VALUE` (re-assigns a `let` of an enclosing scope).
    Assign {
        /// The assigned name.
        name: Ident,
        /// The value.
        value: Expr,
        /// The whole statement.
        span: Span,
    },
    /// `loop (max: N) @expect(iterations: K) { BODY }`
    Loop {
        /// The header arguments (`max: N`), validated by the checker.
        args: Vec<Arg>,
        /// Annotations after the header.
        annotations: Vec<Annotation>,
        /// The body.
        body: Block,
        /// The whole statement.
        span: Span,
    },
    /// `break`
    Break {
        /// The keyword.
        span: Span,
    },
    /// `return VALUE` (or bare `return`).
    Return {
        /// The returned value.
        value: Option<Expr>,
        /// The whole statement.
        span: Span,
    },
    /// An expression used as a statement (or as the block's value when last).
    Expr(Expr),
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// The forms of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal.
    Int(i64),
    /// A floating-point literal.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// A string literal, escapes already decoded.
    Str(String),
    /// A duration literal (`250ms`, `2s`, `1m`) in milliseconds.
    Duration(u64),
    /// A name (local, parameter, or a bare identifier such as `get` in `http(get, ...)`).
    Name(String),
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// A prefix operator.
    Unary {
        /// Which operator.
        op: UnaryOp,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// An infix operator.
    Binary {
        /// Which operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `NAME(args)`: an agent, tool, fn or built-in call.
    Call {
        /// The called name.
        callee: Ident,
        /// The arguments.
        args: Vec<Arg>,
    },
    /// `RECEIVER.METHOD(args)`: a model call such as `planner.generate(...)`.
    MethodCall {
        /// The receiver (a model name).
        receiver: Box<Expr>,
        /// The method name.
        method: Ident,
        /// The arguments.
        args: Vec<Arg>,
    },
    /// `BASE.FIELD`: a field of a record value.
    Field {
        /// The record value.
        base: Box<Expr>,
        /// The field's name.
        field: Ident,
    },
    /// `BASE[INDEX]`
    Index {
        /// The indexed value.
        base: Box<Expr>,
        /// The index.
        index: Box<Expr>,
    },
    /// `EXPR @annotation...`: annotations bind loosest of all, to the whole expression
    /// before them. The checker accepts them in three places only: on a model or fn call
    /// (`@device`), on an if condition (`@likely`, `@unlikely`) and on a map's list
    /// (`@expect`); anywhere else they are "in the wrong place".
    Annotated {
        /// The annotated expression.
        inner: Box<Expr>,
        /// The annotations, in order.
        annotations: Vec<Annotation>,
    },
    /// `if COND @likely { ... } else { ... }` (`else if` is an else block holding one `if`).
    If {
        /// The condition (an [`ExprKind::Annotated`] condition carries `@likely`).
        cond: Box<Expr>,
        /// The then block.
        then_block: Block,
        /// The else block, if any.
        else_block: Option<Block>,
    },
    /// `try { BODY } catch ERROR { HANDLER }`: the body's value, or, when the body fails at
    /// run time, the handler's, with `ERROR` bound to the failure's message (text).
    Try {
        /// The guarded block.
        body: Block,
        /// The name of the error message inside the handler.
        error: Ident,
        /// The catch arm.
        handler: Block,
    },
    /// `map VAR in LIST @expect(iterations: N) { BODY }`
    Map {
        /// The element variable.
        var: Ident,
        /// The mapped list (an [`ExprKind::Annotated`] list carries `@expect`).
        list: Box<Expr>,
        /// The body; its value is the element of the result list.
        body: Block,
    },
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `!x`
    Not,
}

/// Infix operators, by precedence as in Rust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}
