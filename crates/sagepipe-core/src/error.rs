//! The one error type of the engine, with structured, located problems.

use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// One validation problem: what kind it is, where (a path into the definition or request), and a
/// message that says what was expected, what was found and, where possible, a suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: &'static str,
    pub loc: Vec<String>,
    pub msg: String,
}

impl Problem {
    pub fn new(kind: &'static str, loc: Vec<String>, msg: impl Into<String>) -> Self {
        Problem {
            kind,
            loc,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.is_empty() {
            write!(f, "{}", self.msg)
        } else {
            write!(f, "{}: {}", self.loc.join("."), self.msg)
        }
    }
}

fn render(title: &str, problems: &[Problem]) -> String {
    let n = problems.len();
    let mut out = format!("{n} problem{} in {title}", if n == 1 { "" } else { "s" });
    for p in problems {
        out.push_str("\n  - ");
        out.push_str(&p.to_string());
    }
    out
}

/// Every error the core can return. The binding layer maps each variant to a Python exception
/// class under `sagepipe.SagePipeError`.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The pipeline definition is malformed or inconsistent (all problems at once).
    #[error("{}", render(&format!("pipeline definition '{pipeline}'"), problems))]
    Definition { pipeline: String, problems: Vec<Problem> },
    /// Parameter values given to a start request do not fit the declared parameters.
    #[error("{}", render(&format!("parameters for pipeline '{pipeline}'"), problems))]
    Parameter { pipeline: String, problems: Vec<Problem> },
    /// A selective-execution request is not valid for this pipeline.
    #[error("{}", render(&format!("selective execution of pipeline '{pipeline}'"), problems))]
    Selection { pipeline: String, problems: Vec<Problem> },
    /// The reference execution of a selective run cannot be used.
    #[error("{}", render(&format!("reference execution of pipeline '{pipeline}'"), problems))]
    ReferenceExecution { pipeline: String, problems: Vec<Problem> },
    /// A request names a pipeline, execution or step that does not exist.
    #[error("{kind} '{name}' does not exist{}", suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default())]
    NotFound {
        kind: &'static str,
        name: String,
        suggestion: Option<String>,
    },
    /// A request is well-formed but not acceptable (bad argument value, wrong state).
    #[error("{0}")]
    Validation(String),
    /// A request conflicts with the current state (deleting a pipeline while it runs).
    #[error("{0}")]
    Conflict(String),
    /// A step cannot run locally; raised before anything runs.
    #[error("{}", render("this pipeline: steps that cannot run locally", problems))]
    Unsupported { problems: Vec<Problem> },
    /// Reading or writing the store failed.
    #[error("store error at {}: {source}", path.display())]
    Store {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A record in the store could not be decoded.
    #[error("corrupt store record {}: {msg}", path.display())]
    CorruptRecord { path: PathBuf, msg: String },
}

impl CoreError {
    pub fn store(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CoreError::Store {
            path: path.into(),
            source,
        }
    }

    /// The structured problems behind a validation-type error (empty for other kinds).
    pub fn problems(&self) -> &[Problem] {
        match self {
            CoreError::Definition { problems, .. }
            | CoreError::Parameter { problems, .. }
            | CoreError::Selection { problems, .. }
            | CoreError::ReferenceExecution { problems, .. }
            | CoreError::Unsupported { problems } => problems,
            _ => &[],
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;

/// The closest candidate to `name` (for "did you mean"), if any is reasonably close.
pub fn suggest<'a, I: IntoIterator<Item = &'a str>>(name: &str, candidates: I) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&name.to_lowercase(), &c.to_lowercase());
        if score >= 0.75 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// " (did you mean 'X'?)" or "".
pub fn did_you_mean<'a, I: IntoIterator<Item = &'a str>>(name: &str, candidates: I) -> String {
    suggest(name, candidates)
        .map(|s| format!(" (did you mean '{s}'?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("Trian", ["Train", "Evaluate"]).as_deref(), Some("Train"));
        assert_eq!(suggest("zzz", ["Train", "Evaluate"]), None);
    }

    #[test]
    fn renders_all_problems() {
        let e = CoreError::Definition {
            pipeline: "p".into(),
            problems: vec![
                Problem::new("a", vec!["Steps".into(), "X".into()], "bad"),
                Problem::new("b", vec![], "worse"),
            ],
        };
        let s = e.to_string();
        assert!(s.starts_with("2 problems in pipeline definition 'p'"), "{s}");
        assert!(s.contains("Steps.X: bad") && s.contains("worse"));
    }
}
