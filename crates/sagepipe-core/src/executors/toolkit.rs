//! The SageMaker training toolkit's side of the training container contract, as pure functions
//! of a resolved CreateTrainingJob request: its hyperparameters as the toolkit decodes them, its
//! channels, the files under `/opt/ml/input/config`, the `SM_*` environment and a script's
//! command line. Paths are container paths (`/opt/ml/...`); the job driver maps them to what the
//! job sees (`container_job`).

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::job::permanent;
use super::processing::{environment, required};
use super::StepFailure;
use crate::expr::render_text;
use crate::sandbox::CONTAINER_ML;
use crate::signature::canonical_json;
use crate::util;

/// The one host of a local training job.
pub const HOST: &str = "algo-1";
const INSTANCE_GROUP: &str = "homogeneousCluster";
/// Where the toolkit reads the job's configuration files.
pub const CONFIG_DIR: &str = "/opt/ml/input/config";
/// The toolkit's log level (`logging.INFO`).
const LOG_LEVEL: u32 = 20;

/// A container path under `/opt/ml`.
fn ml(rel: &str) -> String {
    format!("{CONTAINER_ML}/{rel}")
}

/// A request's hyperparameters, as the service stores them and as the toolkit decodes them.
pub struct Hyperparameters {
    /// Every value as the string the service keeps (`hyperparameters.json`, the description).
    pub stored: Map<String, Value>,
    /// The `sagemaker_*` ones (the SDK's framework parameters), decoded.
    pub framework: BTreeMap<String, Value>,
    /// The user's, decoded.
    pub user: BTreeMap<String, Value>,
}

impl Hyperparameters {
    pub fn of(args: &Value) -> Hyperparameters {
        let raw = args
            .get("HyperParameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let stored = raw.iter().map(|(k, v)| (k.clone(), json!(render_text(v)))).collect();
        let (framework, user) = decode_hyperparameters(&raw)
            .into_iter()
            .partition(|(k, _)| k.starts_with("sagemaker_"));
        Hyperparameters {
            stored,
            framework,
            user,
        }
    }

    /// `sagemaker_program`: the script-mode entry point, if the request names one.
    pub fn program(&self) -> Option<String> {
        self.framework.get("sagemaker_program").map(python_str)
    }

    /// `sagemaker_submit_directory`: where the entry point's source comes from.
    pub fn submit_directory(&self) -> Option<String> {
        self.framework.get("sagemaker_submit_directory").map(python_str)
    }

    /// The script's command-line arguments: `--name value` for the user's hyperparameters,
    /// sorted by name.
    pub fn user_args(&self) -> Vec<String> {
        user_args(&self.user)
    }

    /// The framework parameters the toolkit passes on (all but the entry point and its source).
    fn framework_params(&self) -> BTreeMap<&String, &Value> {
        self.framework
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "sagemaker_program" | "sagemaker_submit_directory"))
            .collect()
    }
}

/// Hyperparameters as the training toolkit reads them: every value JSON-decoded, or (if any
/// value is not JSON) all kept as strings.
fn decode_hyperparameters(raw: &Map<String, Value>) -> BTreeMap<String, Value> {
    // Each value on its own, as the training toolkit reads hyperparameters.json: a value that is
    // not JSON (a model repack's `model_archive` S3 URI) stays the string it is.
    raw.iter()
        .map(|(k, v)| {
            let text = render_text(v);
            (k.clone(), serde_json::from_str(&text).unwrap_or(Value::String(text)))
        })
        .collect()
}

/// Python's `str()` of a decoded hyperparameter, as the toolkit puts it on the command line.
pub fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => String::new(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", python_str(v)))
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// The toolkit's environment value: strings as they are, anything else as compact JSON.
fn env_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => canonical_json(other),
    }
}

/// The command of a script-mode entry point, as the training toolkit chooses it: a `.py` file runs
/// with Python, anything else (the SDK's `_repack_script_launcher.sh`) as an executable through
/// `/bin/sh`.
pub fn script_command(script: &Path, program: &str, args: &[String]) -> Vec<String> {
    if program.ends_with(".py") {
        let mut argv = vec!["python3".to_string(), program.to_string()];
        argv.extend(args.iter().cloned());
        return argv;
    }
    if let Ok(meta) = fs::metadata(script) {
        let mut perms = meta.permissions();
        perms.set_mode(perms.mode() | 0o111);
        let _ = fs::set_permissions(script, perms);
    }
    let quoted: Vec<String> = std::iter::once(format!("./{program}"))
        .chain(args.iter().cloned())
        .map(|a| crate::sandbox::shell_quote(&a))
        .collect();
    vec!["/bin/sh".into(), "-c".into(), quoted.join(" ")]
}

/// `--name value` arguments for the user's hyperparameters, sorted by name.
fn user_args(hps: &BTreeMap<String, Value>) -> Vec<String> {
    hps.iter()
        .flat_map(|(k, v)| [format!("--{k}"), python_str(v)])
        .collect()
}

/// One input channel of a training request.
pub struct Channel {
    pub name: String,
    pub uri: String,
    /// `S3DataType: ManifestFile`: `uri` is a manifest listing the objects to stage.
    pub manifest: bool,
    /// Its entry in `inputdataconfig.json`.
    config: Value,
}

impl Channel {
    /// Where the job finds the channel's data.
    pub fn dir(&self) -> String {
        ml(&format!("input/data/{}", self.name))
    }
}

/// The request's `InputDataConfig`, as channels staged from the store.
pub fn channels(step: &str, args: &Value) -> Result<Vec<Channel>, StepFailure> {
    let mut out = Vec::new();
    for c in args
        .get("InputDataConfig")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = required(step, c, "/ChannelName")?;
        if c.pointer("/DataSource/FileSystemDataSource").is_some() {
            return Err(permanent(format!(
                "step '{step}': channel '{name}' reads from EFS/FSx (FileSystemDataSource), which needs AWS"
            )));
        }
        let uri = required(step, c, "/DataSource/S3DataSource/S3Uri")?;
        let mut config = Map::new();
        if let Some(ct) = c.get("ContentType") {
            config.insert("ContentType".into(), json!(render_text(ct)));
        }
        let mode = c
            .get("InputMode")
            .or_else(|| args.pointer("/AlgorithmSpecification/TrainingInputMode"))
            .map(render_text)
            .unwrap_or_else(|| "File".into());
        config.insert("TrainingInputMode".into(), json!(mode));
        config.insert(
            "S3DistributionType".into(),
            json!(c
                .pointer("/DataSource/S3DataSource/S3DataDistributionType")
                .map(render_text)
                .unwrap_or_else(|| "FullyReplicated".into())),
        );
        config.insert(
            "RecordWrapperType".into(),
            json!(c
                .get("RecordWrapperType")
                .map(render_text)
                .unwrap_or_else(|| "None".into())),
        );
        if let Some(ct) = c.get("CompressionType") {
            config.insert("CompressionType".into(), json!(render_text(ct)));
        }
        let manifest = c
            .pointer("/DataSource/S3DataSource/S3DataType")
            .is_some_and(|t| render_text(t) == "ManifestFile");
        out.push(Channel {
            name,
            uri,
            manifest,
            config: Value::Object(config),
        });
    }
    Ok(out)
}

/// Everything the toolkit's configuration files and environment are computed from.
pub struct Toolkit<'a> {
    /// The resolved CreateTrainingJob request.
    pub request: &'a Value,
    pub job_name: &'a str,
    pub hyperparameters: &'a Hyperparameters,
    pub channels: &'a [Channel],
    /// The script-mode entry point and its source (`sagemaker_submit_directory`); empty when the
    /// job runs an entry point or an image runner of its own.
    pub program: &'a str,
    pub module_dir: &'a str,
    pub image: &'a str,
    /// The CPUs the job is told it has.
    pub num_cpus: usize,
}

impl Toolkit<'_> {
    fn instance_type(&self) -> String {
        self.request
            .pointer("/ResourceConfig/InstanceType")
            .map(render_text)
            .unwrap_or_else(|| "local".into())
    }

    fn resource_config(&self) -> Value {
        let instance_type = self.instance_type();
        json!({
            "current_host": HOST, "hosts": [HOST], "network_interface_name": "eth0",
            "current_instance_type": instance_type, "current_group_name": INSTANCE_GROUP,
            "instance_groups": [{"instance_group_name": INSTANCE_GROUP, "instance_type": instance_type, "hosts": [HOST]}],
        })
    }

    fn input_data_config(&self) -> Map<String, Value> {
        self.channels
            .iter()
            .map(|c| (c.name.clone(), c.config.clone()))
            .collect()
    }

    /// The files of `/opt/ml/input/config` (container path, content), in the order written.
    pub fn config_files(&self) -> Vec<(String, String)> {
        let mut job_config = self.request.as_object().cloned().unwrap_or_default();
        job_config.insert("TrainingJobName".into(), json!(self.job_name));
        [
            (
                "hyperparameters.json",
                Value::Object(self.hyperparameters.stored.clone()),
            ),
            ("inputdataconfig.json", Value::Object(self.input_data_config())),
            ("resourceconfig.json", self.resource_config()),
            ("trainingjobconfig.json", Value::Object(job_config)),
        ]
        .into_iter()
        .map(|(file, content)| (format!("{CONFIG_DIR}/{file}"), content.to_string()))
        .collect()
    }

    fn module_name(&self) -> &str {
        self.program.strip_suffix(".py").unwrap_or(self.program)
    }

    /// `SM_TRAINING_ENV`: the toolkit's whole view of the job.
    fn training_env(&self) -> Value {
        let mut channel_dirs: Vec<&Channel> = self.channels.iter().collect();
        channel_dirs.sort_by(|a, b| a.name.cmp(&b.name));
        let channel_dirs: BTreeMap<&str, String> = channel_dirs.iter().map(|c| (c.name.as_str(), c.dir())).collect();
        json!({
            "additional_framework_parameters": self.hyperparameters.framework_params(),
            "channel_input_dirs": channel_dirs,
            "current_host": HOST, "current_instance_group": INSTANCE_GROUP,
            "current_instance_type": self.instance_type(),
            "distribution_hosts": [], "distribution_instance_groups": [], "framework_module": null,
            "hosts": [HOST], "hyperparameters": self.hyperparameters.user, "input_config_dir": CONFIG_DIR,
            "input_data_config": self.input_data_config(), "input_dir": ml("input"),
            "instance_groups": [INSTANCE_GROUP], "is_hetero": false, "is_master": true, "job_name": self.job_name,
            "log_level": LOG_LEVEL, "master_hostname": HOST, "model_dir": ml("model"), "module_dir": self.module_dir,
            "module_name": self.module_name(), "network_interface_name": "eth0", "num_cpus": self.num_cpus,
            "num_gpus": 0, "num_neurons": 0, "output_data_dir": ml("output/data"), "output_dir": ml("output"),
            "output_intermediate_dir": ml("output/intermediate"), "resource_config": self.resource_config(),
            "user_entry_point": self.program,
        })
    }

    /// The job's environment: the request's `Environment`, then `SM_CHANNEL_<NAME>` and
    /// `SM_HP_<NAME>`, then the toolkit's `SM_*` variables (later entries win).
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut channel_names: Vec<&str> = self.channels.iter().map(|c| c.name.as_str()).collect();
        channel_names.sort();
        let hps = &self.hyperparameters;
        let user = serde_json::to_value(&hps.user).unwrap_or(Value::Null);
        let mut env = environment(self.request.get("Environment"));
        for c in &channel_names {
            env.push((
                format!("SM_CHANNEL_{}", c.to_uppercase()),
                ml(&format!("input/data/{c}")),
            ));
        }
        for (k, v) in &hps.user {
            env.push((format!("SM_HP_{}", k.to_uppercase()), env_value(v)));
        }
        let toolkit = [
            ("SM_MODEL_DIR", ml("model")),
            ("SM_CHANNELS", canonical_json(&json!(channel_names))),
            ("SM_HPS", canonical_json(&user)),
            ("SM_USER_ARGS", canonical_json(&json!(hps.user_args()))),
            ("SM_OUTPUT_DATA_DIR", ml("output/data")),
            ("SM_OUTPUT_DIR", ml("output")),
            ("SM_OUTPUT_INTERMEDIATE_DIR", ml("output/intermediate")),
            ("SM_INPUT_DIR", ml("input")),
            ("SM_INPUT_CONFIG_DIR", CONFIG_DIR.to_string()),
            (
                "SM_INPUT_DATA_CONFIG",
                canonical_json(&Value::Object(self.input_data_config())),
            ),
            ("SM_RESOURCE_CONFIG", canonical_json(&self.resource_config())),
            ("SM_NUM_CPUS", self.num_cpus.to_string()),
            ("SM_NUM_GPUS", "0".into()),
            ("SM_NUM_NEURONS", "0".into()),
            ("SM_HOSTS", canonical_json(&json!([HOST]))),
            ("SM_CURRENT_HOST", HOST.into()),
            ("SM_CURRENT_INSTANCE_TYPE", self.instance_type()),
            ("SM_CURRENT_INSTANCE_GROUP", INSTANCE_GROUP.into()),
            ("SM_NETWORK_INTERFACE_NAME", "eth0".into()),
            ("SM_LOG_LEVEL", LOG_LEVEL.to_string()),
            ("SM_USER_ENTRY_POINT", self.program.to_string()),
            ("SM_MODULE_NAME", self.module_name().to_string()),
            ("SM_MODULE_DIR", self.module_dir.to_string()),
            ("SM_FRAMEWORK_MODULE", String::new()),
            ("SM_FRAMEWORK_PARAMS", canonical_json(&json!(hps.framework_params()))),
            ("SM_TRAINING_ENV", canonical_json(&self.training_env())),
            ("TRAINING_JOB_NAME", self.job_name.to_string()),
            ("TRAINING_JOB_ARN", util::job_arn("training-job", self.job_name)),
            ("SAGEPIPE_IMAGE_URI", self.image.to_string()),
        ];
        env.extend(toolkit.into_iter().map(|(k, v)| (k.to_string(), v)));
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperparameters_decode_like_the_toolkit() {
        let raw = json!({"sagemaker_program": "\"train.py\"", "epochs": "10", "lr": "0.1", "name": "\"abc\"", "flag": "true"});
        let d = decode_hyperparameters(raw.as_object().expect("obj"));
        assert_eq!(d["sagemaker_program"], json!("train.py"));
        assert_eq!(python_str(&d["flag"]), "True");
        let user: BTreeMap<_, _> = d.into_iter().filter(|(k, _)| !k.starts_with("sagemaker_")).collect();
        assert_eq!(
            user_args(&user),
            ["--epochs", "10", "--flag", "True", "--lr", "0.1", "--name", "abc"]
        );
        // A value that is not JSON stays a string; the others are still decoded.
        let raw = json!({"a": "1", "b": "s3://bucket/model.tar.gz", "c": "\"x\""});
        let d = decode_hyperparameters(raw.as_object().expect("obj"));
        assert_eq!(d["a"], json!(1));
        assert_eq!(d["b"], json!("s3://bucket/model.tar.gz"));
        assert_eq!(d["c"], json!("x"));
    }

    #[test]
    fn script_entry_points_run_like_the_toolkit() {
        let args = vec!["--a".to_string(), "it's".to_string()];
        assert_eq!(
            script_command(Path::new("/nonexistent/train.py"), "train.py", &args),
            ["python3", "train.py", "--a", "it's"]
        );
        assert_eq!(
            script_command(Path::new("/nonexistent/run.sh"), "run.sh", &args),
            ["/bin/sh", "-c", "'./run.sh' '--a' 'it'\\''s'"]
        );
    }

    #[test]
    fn env_values_are_compact_sorted_json() {
        assert_eq!(env_value(&json!({"b": 1, "a": [1, 2]})), r#"{"a":[1,2],"b":1}"#);
        assert_eq!(env_value(&json!("x")), "x");
    }

    #[test]
    fn channels_need_s3_uris() {
        let args = json!({"InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/k"}}, "ContentType": "text/csv"}]});
        let Ok(c) = channels("T", &args) else {
            panic!("channels parse")
        };
        assert_eq!(c[0].config["ContentType"], json!("text/csv"));
        assert!(channels("T", &json!({"InputDataConfig": [{"ChannelName": "x"}]})).is_err());
    }

    #[test]
    fn python_str_of_dicts_is_key_value_pairs() {
        assert_eq!(python_str(&json!({"a": 1, "b": "x"})), "a=1,b=x");
    }

    /// A script-mode request with two channels (given out of order, one a manifest), framework
    /// hyperparameters for distribution, user hyperparameters of every JSON kind and one that is
    /// not JSON, an instance type and an environment of its own.
    fn representative_request() -> Value {
        json!({
            "AlgorithmSpecification": {"TrainingImage": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310", "TrainingInputMode": "File"},
            "HyperParameters": {
                "sagemaker_program": "\"train.py\"",
                "sagemaker_submit_directory": "\"s3://b/src/sourcedir.tar.gz\"",
                "sagemaker_distributed_dataparallel_enabled": "true",
                "sagemaker_instance_type": "\"ml.p3.16xlarge\"",
                "lr": "0.1",
                "epochs": "10",
                "layers": "[64, 32]",
                "use_amp": "false",
                "model_archive": "s3://b/model.tar.gz",
                "optimizer": "adam",
                "batch_size": 64
            },
            "InputDataConfig": [
                {"ChannelName": "validation", "InputMode": "Pipe", "CompressionType": "Gzip",
                 "DataSource": {"S3DataSource": {"S3Uri": "s3://b/val.manifest", "S3DataType": "ManifestFile"}}},
                {"ChannelName": "train", "ContentType": "text/csv",
                 "DataSource": {"S3DataSource": {"S3Uri": "s3://b/train", "S3DataDistributionType": "ShardedByS3Key"}}}
            ],
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
            "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
            "Environment": {"MY_FLAG": "1", "SM_LOG_LEVEL": "10"}
        })
    }

    const JOB: &str = "pipelines-abc123-Train-0123456789";
    const IMAGE: &str = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310";

    fn with_toolkit<T>(f: impl FnOnce(&Toolkit) -> T) -> T {
        let request = representative_request();
        let hyperparameters = Hyperparameters::of(&request);
        let Ok(channels) = channels("Train", &request) else {
            panic!("the channels parse")
        };
        f(&Toolkit {
            request: &request,
            job_name: JOB,
            hyperparameters: &hyperparameters,
            channels: &channels,
            program: "train.py",
            module_dir: "s3://b/src/sourcedir.tar.gz",
            image: IMAGE,
            num_cpus: 4,
        })
    }

    #[test]
    fn the_request_decodes_as_the_toolkit_reads_it() {
        let request = representative_request();
        let hps = Hyperparameters::of(&request);
        assert_eq!(hps.program().as_deref(), Some("train.py"));
        assert_eq!(hps.submit_directory().as_deref(), Some("s3://b/src/sourcedir.tar.gz"));
        assert_eq!(hps.stored["batch_size"], json!("64"));
        assert_eq!(hps.stored["lr"], json!("0.1"));
        assert_eq!(
            hps.user_args(),
            [
                "--batch_size",
                "64",
                "--epochs",
                "10",
                "--layers",
                "[64,32]",
                "--lr",
                "0.1",
                "--model_archive",
                "s3://b/model.tar.gz",
                "--optimizer",
                "adam",
                "--use_amp",
                "False"
            ]
        );
        let Ok(channels) = channels("Train", &request) else {
            panic!("the channels parse")
        };
        let staged: Vec<_> = channels
            .iter()
            .map(|c| (c.name.as_str(), c.uri.as_str(), c.manifest, c.dir()))
            .collect();
        assert_eq!(
            staged,
            [
                (
                    "validation",
                    "s3://b/val.manifest",
                    true,
                    "/opt/ml/input/data/validation".to_string()
                ),
                ("train", "s3://b/train", false, "/opt/ml/input/data/train".to_string()),
            ]
        );
    }

    #[test]
    fn config_files_hold_what_the_service_writes() {
        let files = with_toolkit(|t| t.config_files());
        let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "/opt/ml/input/config/hyperparameters.json",
                "/opt/ml/input/config/inputdataconfig.json",
                "/opt/ml/input/config/resourceconfig.json",
                "/opt/ml/input/config/trainingjobconfig.json",
            ]
        );
        assert_eq!(
            files[0].1,
            r#"{"sagemaker_program":"\"train.py\"","sagemaker_submit_directory":"\"s3://b/src/sourcedir.tar.gz\"","sagemaker_distributed_dataparallel_enabled":"true","sagemaker_instance_type":"\"ml.p3.16xlarge\"","lr":"0.1","epochs":"10","layers":"[64, 32]","use_amp":"false","model_archive":"s3://b/model.tar.gz","optimizer":"adam","batch_size":"64"}"#
        );
        assert_eq!(
            files[1].1,
            r#"{"validation":{"TrainingInputMode":"Pipe","S3DistributionType":"FullyReplicated","RecordWrapperType":"None","CompressionType":"Gzip"},"train":{"ContentType":"text/csv","TrainingInputMode":"File","S3DistributionType":"ShardedByS3Key","RecordWrapperType":"None"}}"#
        );
        assert_eq!(
            files[2].1,
            r#"{"current_host":"algo-1","hosts":["algo-1"],"network_interface_name":"eth0","current_instance_type":"ml.m5.xlarge","current_group_name":"homogeneousCluster","instance_groups":[{"instance_group_name":"homogeneousCluster","instance_type":"ml.m5.xlarge","hosts":["algo-1"]}]}"#
        );
        let mut job_config = representative_request();
        job_config["TrainingJobName"] = json!(JOB);
        assert_eq!(serde_json::from_str::<Value>(&files[3].1).ok(), Some(job_config));
    }

    #[test]
    fn the_environment_is_the_toolkits() {
        let env = with_toolkit(|t| t.environment());
        let training_env = env.iter().find(|(k, _)| k == "SM_TRAINING_ENV").map(|(_, v)| v.clone());
        let expected: Vec<(&str, &str)> = vec![
            ("MY_FLAG", "1"),
            ("SM_LOG_LEVEL", "10"),
            ("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"),
            ("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"),
            ("SM_HP_BATCH_SIZE", "64"),
            ("SM_HP_EPOCHS", "10"),
            ("SM_HP_LAYERS", "[64,32]"),
            ("SM_HP_LR", "0.1"),
            ("SM_HP_MODEL_ARCHIVE", "s3://b/model.tar.gz"),
            ("SM_HP_OPTIMIZER", "adam"),
            ("SM_HP_USE_AMP", "false"),
            ("SM_MODEL_DIR", "/opt/ml/model"),
            ("SM_CHANNELS", r#"["train","validation"]"#),
            (
                "SM_HPS",
                r#"{"batch_size":64,"epochs":10,"layers":[64,32],"lr":0.1,"model_archive":"s3://b/model.tar.gz","optimizer":"adam","use_amp":false}"#,
            ),
            (
                "SM_USER_ARGS",
                r#"["--batch_size","64","--epochs","10","--layers","[64,32]","--lr","0.1","--model_archive","s3://b/model.tar.gz","--optimizer","adam","--use_amp","False"]"#,
            ),
            ("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"),
            ("SM_OUTPUT_DIR", "/opt/ml/output"),
            ("SM_OUTPUT_INTERMEDIATE_DIR", "/opt/ml/output/intermediate"),
            ("SM_INPUT_DIR", "/opt/ml/input"),
            ("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config"),
            (
                "SM_INPUT_DATA_CONFIG",
                r#"{"train":{"ContentType":"text/csv","RecordWrapperType":"None","S3DistributionType":"ShardedByS3Key","TrainingInputMode":"File"},"validation":{"CompressionType":"Gzip","RecordWrapperType":"None","S3DistributionType":"FullyReplicated","TrainingInputMode":"Pipe"}}"#,
            ),
            (
                "SM_RESOURCE_CONFIG",
                r#"{"current_group_name":"homogeneousCluster","current_host":"algo-1","current_instance_type":"ml.m5.xlarge","hosts":["algo-1"],"instance_groups":[{"hosts":["algo-1"],"instance_group_name":"homogeneousCluster","instance_type":"ml.m5.xlarge"}],"network_interface_name":"eth0"}"#,
            ),
            ("SM_NUM_CPUS", "4"),
            ("SM_NUM_GPUS", "0"),
            ("SM_NUM_NEURONS", "0"),
            ("SM_HOSTS", r#"["algo-1"]"#),
            ("SM_CURRENT_HOST", "algo-1"),
            ("SM_CURRENT_INSTANCE_TYPE", "ml.m5.xlarge"),
            ("SM_CURRENT_INSTANCE_GROUP", "homogeneousCluster"),
            ("SM_NETWORK_INTERFACE_NAME", "eth0"),
            ("SM_LOG_LEVEL", "20"),
            ("SM_USER_ENTRY_POINT", "train.py"),
            ("SM_MODULE_NAME", "train"),
            ("SM_MODULE_DIR", "s3://b/src/sourcedir.tar.gz"),
            ("SM_FRAMEWORK_MODULE", ""),
            (
                "SM_FRAMEWORK_PARAMS",
                r#"{"sagemaker_distributed_dataparallel_enabled":true,"sagemaker_instance_type":"ml.p3.16xlarge"}"#,
            ),
            ("SM_TRAINING_ENV", training_env.as_deref().unwrap_or("missing")),
            ("TRAINING_JOB_NAME", JOB),
            (
                "TRAINING_JOB_ARN",
                "arn:aws:sagemaker:local:000000000000:training-job/pipelines-abc123-train-0123456789",
            ),
            ("SAGEPIPE_IMAGE_URI", IMAGE),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(env, expected);

        let training_env: Value =
            serde_json::from_str(training_env.as_deref().unwrap_or("null")).unwrap_or(Value::Null);
        let expected = r#"{
                "additional_framework_parameters": {"sagemaker_distributed_dataparallel_enabled": true, "sagemaker_instance_type": "ml.p3.16xlarge"},
                "channel_input_dirs": {"train": "/opt/ml/input/data/train", "validation": "/opt/ml/input/data/validation"},
                "current_host": "algo-1",
                "current_instance_group": "homogeneousCluster",
                "current_instance_type": "ml.m5.xlarge",
                "distribution_hosts": [],
                "distribution_instance_groups": [],
                "framework_module": null,
                "hosts": ["algo-1"],
                "hyperparameters": {"batch_size": 64, "epochs": 10, "layers": [64, 32], "lr": 0.1, "model_archive": "s3://b/model.tar.gz", "optimizer": "adam", "use_amp": false},
                "input_config_dir": "/opt/ml/input/config",
                "input_data_config": {
                    "train": {"ContentType": "text/csv", "RecordWrapperType": "None", "S3DistributionType": "ShardedByS3Key", "TrainingInputMode": "File"},
                    "validation": {"CompressionType": "Gzip", "RecordWrapperType": "None", "S3DistributionType": "FullyReplicated", "TrainingInputMode": "Pipe"}
                },
                "input_dir": "/opt/ml/input",
                "instance_groups": ["homogeneousCluster"],
                "is_hetero": false,
                "is_master": true,
                "job_name": "pipelines-abc123-Train-0123456789",
                "log_level": 20,
                "master_hostname": "algo-1",
                "model_dir": "/opt/ml/model",
                "module_dir": "s3://b/src/sourcedir.tar.gz",
                "module_name": "train",
                "network_interface_name": "eth0",
                "num_cpus": 4,
                "num_gpus": 0,
                "num_neurons": 0,
                "output_data_dir": "/opt/ml/output/data",
                "output_dir": "/opt/ml/output",
                "output_intermediate_dir": "/opt/ml/output/intermediate",
                "resource_config": {
                    "current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0",
                    "current_instance_type": "ml.m5.xlarge", "current_group_name": "homogeneousCluster",
                    "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": "ml.m5.xlarge", "hosts": ["algo-1"]}]
                },
                "user_entry_point": "train.py"
            }"#;
        assert_eq!(Some(training_env), serde_json::from_str::<Value>(expected).ok());
    }

    #[test]
    fn an_image_that_runs_its_own_command_has_no_entry_point_in_the_environment() {
        let request = json!({"HyperParameters": {"num_round": "50", "objective": "reg:squarederror"}});
        let hyperparameters = Hyperparameters::of(&request);
        let toolkit = Toolkit {
            request: &request,
            job_name: JOB,
            hyperparameters: &hyperparameters,
            channels: &[],
            program: "",
            module_dir: "",
            image: "x/sagemaker-xgboost:1.7-1",
            num_cpus: 1,
        };
        let env = toolkit.environment();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("SM_USER_ENTRY_POINT"), Some(""));
        assert_eq!(get("SM_MODULE_NAME"), Some(""));
        assert_eq!(get("SM_CHANNELS"), Some("[]"));
        assert_eq!(get("SM_CURRENT_INSTANCE_TYPE"), Some("local"));
        // `reg:squarederror` is not JSON: it stays the string it is.
        assert_eq!(
            get("SM_HPS"),
            Some(r#"{"num_round":50,"objective":"reg:squarederror"}"#)
        );
        assert_eq!(hyperparameters.program(), None);
    }
}
