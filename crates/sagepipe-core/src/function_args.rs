//! The remote-function options in a `@step` function step's `ContainerArguments`, parsed in
//! one place: the executor runs the step with them, and the step's signature names its
//! serialized function by them.

use serde_json::{Map, Value};

use crate::expr::render_text;

/// The remote-function options from resolved `ContainerArguments`.
pub struct FunctionArgs {
    pub s3_base_uri: String,
    pub step_name: String,
    pub func_step_s3_dir: String,
    pub property_references: Map<String, Value>,
    pub serialize_output_to_json: bool,
}

pub fn parse(args: &Value) -> Result<FunctionArgs, String> {
    let items = args
        .pointer("/AlgorithmSpecification/ContainerArguments")
        .and_then(Value::as_array)
        .ok_or("function step has no AlgorithmSpecification.ContainerArguments")?;
    let mut out = FunctionArgs {
        s3_base_uri: String::new(),
        step_name: String::new(),
        func_step_s3_dir: String::new(),
        property_references: Map::new(),
        serialize_output_to_json: false,
    };
    let mut i = 0;
    while i < items.len() {
        let flag = items[i].as_str().unwrap_or("");
        let next = items.get(i + 1);
        match flag {
            "--s3_base_uri" => out.s3_base_uri = next.map(render_text).unwrap_or_default(),
            "--pipeline_step_name" => out.step_name = next.map(render_text).unwrap_or_default(),
            "--func_step_s3_dir" => out.func_step_s3_dir = next.map(render_text).unwrap_or_default(),
            "--serialize_output_to_json" => {
                out.serialize_output_to_json = next.map(render_text).is_some_and(|v| v.eq_ignore_ascii_case("true"))
            }
            "--property_references" => {
                i += 1;
                while i + 1 < items.len() && !items[i].as_str().is_some_and(|s| s.starts_with("--")) {
                    if let Some(k) = items[i].as_str() {
                        out.property_references.insert(k.to_string(), items[i + 1].clone());
                    }
                    i += 2;
                }
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    if out.s3_base_uri.is_empty() || out.step_name.is_empty() || out.func_step_s3_dir.is_empty() {
        return Err(
            "function step ContainerArguments lack --s3_base_uri, --pipeline_step_name or --func_step_s3_dir".into(),
        );
    }
    Ok(out)
}

impl FunctionArgs {
    /// Where the step's serialized function and arguments are: `<s3_base_uri>/<step>/<dir>`.
    pub fn payload_uri(&self) -> String {
        format!(
            "{}/{}/{}",
            self.s3_base_uri.trim_end_matches('/'),
            self.step_name,
            self.func_step_s3_dir
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_sdk_container_arguments() {
        let args = json!({"AlgorithmSpecification": {"ContainerEntrypoint": ["/bin/bash", "/opt/ml/input/data/x/job_driver.sh"],
          "ContainerArguments": ["--s3_base_uri", "s3://b/P/", "--region", "us-east-1", "--pipeline_step_name", "add",
            "--func_step_s3_dir", "d1", "--property_references", "Execution.PipelineExecutionId", "abc",
            "Steps.g.OutputDataConfig.S3OutputPath", "s3://b/P/abc/g/results", "--serialize_output_to_json", "true"]}});
        let fa = parse(&args).expect("parses");
        assert_eq!(fa.s3_base_uri, "s3://b/P/");
        assert_eq!(fa.step_name, "add");
        assert_eq!(fa.payload_uri(), "s3://b/P/add/d1");
        assert_eq!(fa.property_references.len(), 2);
        assert!(fa.serialize_output_to_json);
    }

    #[test]
    fn a_missing_option_is_named() {
        let args = json!({"AlgorithmSpecification": {"ContainerArguments": ["--s3_base_uri", "s3://b/P"]}});
        let err = parse(&args).err().expect("refused");
        assert!(err.contains("--pipeline_step_name"), "{err}");
        assert!(parse(&json!({})).is_err());
    }
}
