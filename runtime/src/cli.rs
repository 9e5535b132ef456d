//! The command line of an executable `agentc build` made: `./app [OPTIONS] [--] ARGS…`
//! (docs/language.md §12). Options come first; `--` ends them, and so does the first
//! argument that is not an option (it and everything after go to `main`).

use std::path::PathBuf;

/// The executable's options and `main`'s arguments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommandLine {
    /// `--trace FILE`: write a Chrome/Perfetto trace there.
    pub trace: Option<PathBuf>,
    /// `--stream`: generated text goes to stderr as it is produced.
    pub stream: bool,
    /// `--seed N` (default 0): the seed of every sampling generator.
    pub seed: u64,
    /// `--models DIR`: the folder holding the model folders (by their last path component).
    pub models: Option<PathBuf>,
    /// `--fallback cpu`: run fragments placed on a GPU on the CPU when no GPU is usable.
    pub fallback_cpu: bool,
    /// `--max-parallel N` (0: the number of cores).
    pub max_parallel: usize,
    /// `--threads N` (0: not given): threads that run one kernel (a model's parallel loops,
    /// a kernel's workgroups).
    pub threads: usize,
    /// `--help` / `-h`.
    pub help: bool,
    /// `main`'s arguments.
    pub args: Vec<String>,
}

/// The options' help, after the usage line.
pub const OPTIONS_HELP: &str = "\
Options (before the arguments; `--` ends them):
  --trace FILE        write a Chrome/Perfetto trace of the run: one track per device,
                      one slice per fragment and per decode step (open in ui.perfetto.dev)
  --stream            write generated text to stderr as it is produced
  --seed N            seed of the sampling generators (default 0): same seed, same result
  --models DIR        take model folders from DIR (a model written hf(\"x/tiny-llama\") is
                      DIR/tiny-llama) instead of where they were at build time
  --fallback cpu      run fragments placed on a GPU on the CPU when no GPU is usable
  --max-parallel N    at most N map bodies and fragments at once (default: cores)
  --threads N         threads that run one kernel: a model's parallel loops (linear
                      layers, attention heads) and a kernel's workgroups (default: the
                      --max-parallel value, at most the cores)
  -h, --help          print this help

stdout holds only main's result and a newline; everything else goes to stderr.
Exit status: 0 success; 1 the workflow failed (one line on stderr naming the source
location); 2 usage error; 128+N when signal N (HUP, INT, QUIT, USR1, USR2, ALRM, TERM)
cancelled the run (running tools are stopped, the trace is written).";

/// Parses the arguments after the program name.
pub fn parse(argv: &[String]) -> Result<CommandLine, String> {
    let mut cl = CommandLine::default();
    let mut i = 0;
    let value = |i: &mut usize, name: &str, inline: Option<&str>| -> Result<String, String> {
        if let Some(v) = inline {
            return Ok(v.to_string());
        }
        *i += 1;
        argv.get(*i).cloned().ok_or_else(|| format!("{name} needs a value"))
    };
    while i < argv.len() {
        let arg = &argv[i];
        if arg == "--" {
            cl.args = argv[i + 1..].to_vec();
            return Ok(cl);
        }
        if arg == "-h" || arg == "--help" {
            cl.help = true;
            i += 1;
            continue;
        }
        if !arg.starts_with("--") {
            cl.args = argv[i..].to_vec();
            return Ok(cl);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (arg.as_str(), None),
        };
        match name {
            "--trace" => cl.trace = Some(PathBuf::from(value(&mut i, name, inline)?)),
            "--models" => cl.models = Some(PathBuf::from(value(&mut i, name, inline)?)),
            "--seed" => {
                let v = value(&mut i, name, inline)?;
                cl.seed = v.parse().map_err(|_| format!("--seed needs a non-negative integer, not `{v}`"))?;
            }
            "--max-parallel" => {
                let v = value(&mut i, name, inline)?;
                cl.max_parallel = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("--max-parallel needs a positive integer, not `{v}`"))?;
            }
            "--threads" => {
                let v = value(&mut i, name, inline)?;
                cl.threads = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("--threads needs a positive integer, not `{v}`"))?;
            }
            "--fallback" => {
                let v = value(&mut i, name, inline)?;
                if v != "cpu" {
                    return Err(format!("--fallback takes `cpu`, not `{v}`"));
                }
                cl.fallback_cpu = true;
            }
            "--stream" if inline.is_none() => cl.stream = true,
            _ => return Err(format!("unknown option `{arg}` (put main's arguments after `--`)")),
        }
        i += 1;
    }
    Ok(cl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<CommandLine, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments_without_options_all_go_to_main() {
        assert_eq!(p(&["what", "--seed", "1"]).unwrap().args, ["what", "--seed", "1"]);
    }

    #[test]
    fn options_then_double_dash() {
        let cl = p(&["--seed", "7", "--stream", "--trace=t.json", "--", "--seed"]).unwrap();
        assert_eq!((cl.seed, cl.stream, cl.trace.unwrap()), (7, true, PathBuf::from("t.json")));
        assert_eq!(cl.args, ["--seed"]);
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert!(p(&["--sede", "1"]).unwrap_err().contains("unknown option `--sede`"));
        assert!(p(&["--seed"]).unwrap_err().contains("needs a value"));
        assert!(p(&["--seed", "-1"]).is_err());
        assert!(p(&["--max-parallel", "0"]).is_err());
        assert!(p(&["--threads", "0"]).unwrap_err().contains("--threads needs a positive integer"));
        assert_eq!(p(&["--threads=3", "x"]).unwrap().threads, 3);
        assert!(p(&["--fallback", "gpu"]).is_err());
        assert_eq!(p(&["--fallback", "cpu", "x"]).unwrap().fallback_cpu, true);
    }
}
