//! `--dump-phases-to DIR`: every level a build goes through, written as it is reached (so a
//! failing build leaves the levels before the failure), named `N.LEVEL.EXT` with N fixed per
//! level (as IREE's `--dump-compilation-phases-to`): `1.workflow.mlir`, `2.fragment.mlir`,
//! `3.tensor.mlir`, `4.kernel.mlir`, `5.llvm.ll` (the CPU code's LLVM IR after the
//! optimisation pipeline) and `5.llvm-nvptx.ll` (the GPU code's, for PTX).

use std::path::{Path, PathBuf};

use crate::output::write_output;

/// A level of the compilation that `--dump-phases-to` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// The workflow dialect after the workflow passes.
    Workflow,
    /// The fragment dialect, planned and scheduled.
    Fragment,
    /// The program's tensor functions.
    Tensor,
    /// The kernels.
    Kernel,
    /// LLVM IR of the CPU code.
    Llvm,
    /// LLVM IR of the GPU code (nvptx64).
    LlvmNvptx,
}

impl Level {
    /// The file name of the level's dump.
    pub fn file_name(self) -> &'static str {
        match self {
            Level::Workflow => "1.workflow.mlir",
            Level::Fragment => "2.fragment.mlir",
            Level::Tensor => "3.tensor.mlir",
            Level::Kernel => "4.kernel.mlir",
            Level::Llvm => "5.llvm.ll",
            Level::LlvmNvptx => "5.llvm-nvptx.ll",
        }
    }
}

/// Where the levels go (nothing is kept without `--dump-phases-to`).
pub struct PhaseDumps {
    folder: Option<PathBuf>,
    error: Option<String>,
}

impl PhaseDumps {
    /// Dumps into `folder` (created when the first level is written), or none.
    pub fn new(folder: Option<&Path>) -> PhaseDumps {
        PhaseDumps { folder: folder.map(Path::to_path_buf), error: None }
    }

    /// Whether levels are written (the caller may skip printing them otherwise).
    pub fn wanted(&self) -> bool {
        self.folder.is_some()
    }

    /// Writes `text` as `level`; the first failure is kept for [`PhaseDumps::finish`].
    pub fn record(&mut self, level: Level, text: &str) {
        let Some(folder) = &self.folder else { return };
        if self.error.is_some() {
            return;
        }
        let written = std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot create `{}`: {e}", folder.display()))
            .and_then(|()| write_output(Some(&folder.join(level.file_name())), text));
        if let Err(error) = written {
            self.error = Some(error);
        }
    }

    /// The first write that failed, if any.
    pub fn finish(&mut self) -> Result<(), String> {
        self.error.take().map_or(Ok(()), Err)
    }
}
