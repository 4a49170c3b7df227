//! Parameter values: checking and coercing them against their declared type, as the service
//! does (it receives strings and casts them; local callers may also pass typed values).

use serde_json::{Map, Number, Value};

use super::definition::{kind_of, ParameterDef, ParameterType};
use super::error::{did_you_mean, CoreError, CoreResult, Problem};

/// Coerce `value` to `ty`; strings are parsed (`"5"` for Integer, `"0.5"` for Float,
/// `"true"`/`"True"` for Boolean).
pub fn coerce(ty: ParameterType, value: &Value) -> Result<Value, String> {
    let bad = || format!("expected {} value, found {}", article(ty), shown(value));
    match (ty, value) {
        (ParameterType::String, Value::String(_)) => Ok(value.clone()),
        (ParameterType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(value.clone()),
        (ParameterType::Integer, Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::from(f as i64)),
            _ => Err(bad()),
        },
        (ParameterType::Integer, Value::String(s)) => s.trim().parse::<i64>().map(Value::from).map_err(|_| bad()),
        (ParameterType::Float, Value::Number(n)) => {
            n.as_f64().and_then(Number::from_f64).map(Value::Number).ok_or_else(bad)
        }
        (ParameterType::Float, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(bad),
        (ParameterType::Boolean, Value::Bool(_)) => Ok(value.clone()),
        (ParameterType::Boolean, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

fn article(ty: ParameterType) -> &'static str {
    match ty {
        ParameterType::String => "a String",
        ParameterType::Integer => "an Integer",
        ParameterType::Float => "a Float",
        ParameterType::Boolean => "a Boolean",
    }
}

fn shown(v: &Value) -> String {
    let text = v.to_string();
    let text = if text.chars().count() > 60 {
        format!("{}...", text.chars().take(60).collect::<String>())
    } else {
        text
    };
    format!("{} {text}", kind_of(v))
}

/// Check a value (a default or a start value) against the parameter's type and enum.
pub fn check(param: &ParameterDef, value: &Value) -> Result<Value, String> {
    let v = coerce(param.parameter_type, value)?;
    if let Some(allowed) = &param.enum_values {
        if !allowed.iter().any(|a| a == &v) {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return Err(format!("{v} is not one of the allowed values [{}]", list.join(", ")));
        }
    }
    Ok(v)
}

/// The service's limit on a start parameter's value (`PipelineParameter.Value`).
pub const MAX_VALUE_CHARS: usize = 1024;

/// The effective, typed parameters of a run: given values (checked and coerced) over defaults.
/// Every problem (unknown name, wrong type, missing required value) is reported at once.
pub fn resolve(
    pipeline: &str,
    declared: &[ParameterDef],
    given: &Map<String, Value>,
) -> CoreResult<Map<String, Value>> {
    let mut problems = Vec::new();
    let mut out = Map::new();
    for (name, value) in given {
        let length = value.as_str().map_or(0, |s| s.chars().count());
        if length > MAX_VALUE_CHARS {
            problems.push(Problem::new(
                "parameter_value_too_long",
                vec!["PipelineParameters".into(), name.clone()],
                format!(
                    "parameter '{name}': the value has {length} characters; the service accepts at most \
                     {MAX_VALUE_CHARS}"
                ),
            ));
        }
    }
    for name in given.keys() {
        if !declared.iter().any(|p| &p.name == name) {
            problems.push(Problem::new(
                "unknown_parameter",
                vec!["PipelineParameters".into(), name.clone()],
                format!(
                    "unknown parameter '{name}'; the pipeline declares [{}]{}",
                    declared.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", "),
                    did_you_mean(name, declared.iter().map(|p| p.name.as_str()))
                ),
            ));
        }
    }
    for p in declared {
        let loc = vec!["PipelineParameters".to_string(), p.name.clone()];
        match given.get(&p.name).or(p.default_value.as_ref()) {
            None | Some(Value::Null) => problems.push(Problem::new(
                "missing_parameter",
                loc,
                format!("parameter '{}' has no default value and none was given", p.name),
            )),
            Some(v) => match check(p, v) {
                Ok(v) => {
                    out.insert(p.name.clone(), v);
                }
                Err(e) => problems.push(Problem::new(
                    "invalid_parameter_value",
                    loc,
                    format!("parameter '{}': {e}", p.name),
                )),
            },
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(CoreError::Parameter {
            pipeline: pipeline.to_string(),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(name: &str, ty: ParameterType, default: Option<Value>) -> ParameterDef {
        ParameterDef {
            name: name.into(),
            parameter_type: ty,
            default_value: default,
            enum_values: None,
        }
    }

    #[test]
    fn values_longer_than_the_service_accepts_are_refused() {
        let declared = vec![p("S", ParameterType::String, Some(json!("d")))];
        let at_limit: Map<String, Value> = serde_json::from_value(json!({"S": "v".repeat(1024)})).expect("map");
        assert_eq!(
            resolve("p", &declared, &at_limit).expect("1024 is allowed")["S"],
            json!("v".repeat(1024))
        );
        let over: Map<String, Value> = serde_json::from_value(json!({"S": "é".repeat(1025)})).expect("map");
        let err = resolve("p", &declared, &over).expect_err("1025 is not");
        assert_eq!(err.problems()[0].kind, "parameter_value_too_long");
        assert!(err.to_string().contains("1025 characters"), "{err}");
    }

    #[test]
    fn coerces_strings_like_the_service() {
        assert_eq!(coerce(ParameterType::Integer, &json!("7")), Ok(json!(7)));
        assert_eq!(coerce(ParameterType::Float, &json!("0.5")), Ok(json!(0.5)));
        assert_eq!(coerce(ParameterType::Float, &json!(5)), Ok(json!(5.0)));
        assert_eq!(coerce(ParameterType::Boolean, &json!("True")), Ok(json!(true)));
        assert!(coerce(ParameterType::Integer, &json!("x")).is_err());
        assert!(coerce(ParameterType::Integer, &json!(1.5)).is_err());
        assert!(coerce(ParameterType::String, &json!(1)).is_err());
    }

    #[test]
    fn resolve_collects_all_problems() {
        let declared = vec![
            p("A", ParameterType::Integer, None),
            p("B", ParameterType::Float, Some(json!(1.0))),
        ];
        let given: Map<String, Value> = serde_json::from_value(json!({"B": "x", "Bee": 1})).expect("map");
        let err = resolve("p", &declared, &given).expect_err("fails");
        let kinds: Vec<_> = err.problems().iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            ["unknown_parameter", "missing_parameter", "invalid_parameter_value"]
        );
        assert!(err.to_string().contains("did you mean 'B'"));
    }

    #[test]
    fn enum_values_are_enforced() {
        let mut s = p("S", ParameterType::String, None);
        s.enum_values = Some(vec![json!("a"), json!("b")]);
        assert!(check(&s, &json!("c")).is_err());
        assert_eq!(check(&s, &json!("b")), Ok(json!("b")));
    }
}
