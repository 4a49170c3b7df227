//! The local model registry: models (CreateModel) and model package groups with numbered
//! versions (CreateModelPackage). Records are the service's Describe* response shapes (times
//! as epoch seconds), so a boto3-shaped client only converts times.

use serde_json::{json, Map, Value};

use super::{db, Store};
use crate::error::{CoreError, CoreResult};
use crate::util::{self, ACCOUNT, REGION};

/// The service's approval statuses.
pub const APPROVAL_STATUSES: &[&str] = &["Approved", "Rejected", "PendingManualApproval"];
/// Fields of a CreateModelPackage request copied into the package record as they are.
const PACKAGE_FIELDS: &[&str] = &[
    "ModelPackageDescription",
    "InferenceSpecification",
    "ValidationSpecification",
    "SourceAlgorithmSpecification",
    "CertifyForMarketplace",
    "MetadataProperties",
    "ModelMetrics",
    "DriftCheckBaselines",
    "CustomerMetadataProperties",
    "Domain",
    "Task",
    "SamplePayloadUrl",
    "AdditionalInferenceSpecifications",
    "SkipModelValidation",
    "SourceUri",
    "SecurityConfig",
    "ModelCard",
    "ModelLifeCycle",
    "Tags",
];

pub fn model_arn(name: &str) -> String {
    format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{}", name.to_lowercase())
}

pub fn model_package_arn(group: &str, version: u64) -> String {
    format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{version}")
}

pub fn model_package_group_arn(group: &str) -> String {
    format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{group}")
}

/// The service's name rule for models and model package groups.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

fn check_name(kind: &str, name: &str) -> CoreResult<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(CoreError::Validation(format!(
            "{kind} name {name:?} is not valid: expected 1 to 63 letters, digits and hyphens, starting and ending \
             with a letter or digit"
        )))
    }
}

/// `(group, version)` from a model package ARN, or from `<group>/<version>`.
fn parse_package_arn(arn: &str) -> Option<(String, u64)> {
    let rest = arn.rsplit_once(":model-package/").map_or(arn, |(_, r)| r);
    let (group, version) = rest.split_once('/')?;
    Some((group.to_string(), version.parse().ok()?))
}

impl Store {
    fn model_record(name: &str) -> String {
        format!("registry/models/{name}.json")
    }

    fn group_record(group: &str) -> String {
        format!("registry/model-packages/{group}/group.json")
    }

    fn package_versions_prefix(group: &str) -> String {
        format!("registry/model-packages/{group}/versions/")
    }

    fn package_record(group: &str, version: u64) -> String {
        format!("{}{version}.json", Self::package_versions_prefix(group))
    }

    /// Record a model (a DescribeModel-shaped record with `ModelName`).
    pub fn put_model(&self, record: &Value) -> CoreResult<()> {
        let name = record.get("ModelName").and_then(Value::as_str).unwrap_or_default();
        check_name("model", name)?;
        self.write_record(&Self::model_record(name), record)
    }

    pub fn load_model(&self, name: &str) -> CoreResult<Value> {
        let not_found = || CoreError::NotFound {
            kind: "model",
            name: name.to_string(),
            suggestion: None,
        };
        if !valid_name(name) {
            return Err(not_found());
        }
        self.read_record(&Self::model_record(name))?.ok_or_else(not_found)
    }

    /// CreateModelPackage: the next version of the group (created if missing); returns the
    /// DescribeModelPackage-shaped record. One transaction.
    pub fn create_model_package(&self, request: &Value) -> CoreResult<Value> {
        let group = request
            .get("ModelPackageGroupName")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                CoreError::Validation(
                    "CreateModelPackage needs a ModelPackageGroupName (unversioned packages are not supported locally)"
                        .into(),
                )
            })?;
        check_name("model package group", group)?;
        let status = request
            .get("ModelApprovalStatus")
            .and_then(Value::as_str)
            .unwrap_or("PendingManualApproval");
        check_status(status)?;
        let t = util::now();
        let group_path = Self::group_record(group);
        let group_bytes = self.encode(
            &group_path,
            &json!({
                "ModelPackageGroupName": group,
                "ModelPackageGroupArn": model_package_group_arn(group),
                "ModelPackageGroupDescription": "",
                "CreationTime": t,
                "ModelPackageGroupStatus": "Completed",
            }),
        )?;
        self.writing(&group_path, |c| {
            if db::get(c, &group_path)?.is_none() {
                db::put(c, &group_path, &group_bytes, t, None)?;
            }
            let version = versions_in(&db::paths_under(c, &Self::package_versions_prefix(group))?)
                .last()
                .copied()
                .unwrap_or(0)
                + 1;
            let mut rec = Map::new();
            rec.insert("ModelPackageName".into(), json!(group));
            rec.insert("ModelPackageGroupName".into(), json!(group));
            rec.insert("ModelPackageVersion".into(), json!(version));
            rec.insert("ModelPackageArn".into(), json!(model_package_arn(group, version)));
            rec.insert("CreationTime".into(), json!(t));
            rec.insert("LastModifiedTime".into(), json!(t));
            rec.insert("ModelPackageStatus".into(), json!("Completed"));
            rec.insert(
                "ModelPackageStatusDetails".into(),
                json!({"ValidationStatuses": [], "ImageScanStatuses": []}),
            );
            rec.insert("ModelApprovalStatus".into(), json!(status));
            rec.insert("CertifyForMarketplace".into(), json!(false));
            for k in PACKAGE_FIELDS {
                if let Some(v) = request.get(*k).filter(|v| !v.is_null()) {
                    rec.insert((*k).to_string(), v.clone());
                }
            }
            let rec = Value::Object(rec);
            let bytes = serde_json::to_vec(&rec).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            db::put(c, &Self::package_record(group, version), &bytes, t, None)?;
            Ok(rec)
        })
    }

    fn package_versions(&self, group: &str) -> CoreResult<Vec<u64>> {
        let prefix = Self::package_versions_prefix(group);
        let paths = self.reading(&prefix, Vec::new(), |c| db::paths_under(c, &prefix))?;
        Ok(versions_in(&paths))
    }

    /// ListModelPackageGroups summaries, oldest first.
    pub fn list_model_package_groups(&self) -> CoreResult<Vec<Value>> {
        let prefix = "registry/model-packages/";
        let rows = self.reading(prefix, Vec::new(), |c| db::under(c, prefix))?;
        let mut groups: Vec<Value> = rows
            .into_iter()
            .filter(|(path, _)| path.ends_with("/group.json") && path[prefix.len()..].matches('/').count() == 1)
            .filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok())
            .collect();
        groups.sort_by(|a, b| time_of(a).total_cmp(&time_of(b)));
        Ok(groups)
    }

    /// ListModelPackages summaries of a group, by version.
    pub fn list_model_packages(&self, group: &str) -> CoreResult<Vec<Value>> {
        self.check_group(group)?;
        let mut out = Vec::new();
        for v in self.package_versions(group)? {
            if let Some(rec) = self.read_record::<Value>(&Self::package_record(group, v))? {
                let mut s = Map::new();
                for k in [
                    "ModelPackageName",
                    "ModelPackageGroupName",
                    "ModelPackageVersion",
                    "ModelPackageArn",
                    "ModelPackageDescription",
                    "CreationTime",
                    "ModelPackageStatus",
                    "ModelApprovalStatus",
                ] {
                    if let Some(x) = rec.get(k) {
                        s.insert(k.into(), x.clone());
                    }
                }
                out.push(Value::Object(s));
            }
        }
        Ok(out)
    }

    fn check_group(&self, group: &str) -> CoreResult<()> {
        if valid_name(group) && self.record_bytes(&Self::group_record(group))?.is_some() {
            return Ok(());
        }
        let names: Vec<String> = self
            .list_model_package_groups()?
            .iter()
            .filter_map(|g| {
                g.get("ModelPackageGroupName")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        Err(CoreError::NotFound {
            kind: "model package group",
            name: group.to_string(),
            suggestion: crate::error::suggest(group, names.iter().map(String::as_str)),
        })
    }

    /// The record of a package (by ARN or `<group>/<version>`), if it has one.
    fn package_path(&self, arn: &str) -> CoreResult<String> {
        let not_found = || CoreError::NotFound {
            kind: "model package",
            name: arn.to_string(),
            suggestion: None,
        };
        let (group, version) = parse_package_arn(arn).ok_or_else(not_found)?;
        if !valid_name(&group) {
            return Err(not_found());
        }
        let path = Self::package_record(&group, version);
        if self.record_bytes(&path)?.is_some() {
            Ok(path)
        } else {
            Err(not_found())
        }
    }

    /// DescribeModelPackage by ARN (or `<group>/<version>`).
    pub fn describe_model_package(&self, arn: &str) -> CoreResult<Value> {
        let path = self.package_path(arn)?;
        self.read_record(&path)?.ok_or_else(|| CoreError::NotFound {
            kind: "model package",
            name: arn.to_string(),
            suggestion: None,
        })
    }

    /// UpdateModelPackage: `ModelApprovalStatus`, `ApprovalDescription`,
    /// `CustomerMetadataProperties` (merged) and `CustomerMetadataPropertiesToRemove`. One
    /// transaction (read, change, write).
    pub fn update_model_package(&self, arn: &str, update: &Value) -> CoreResult<Value> {
        let path = self.package_path(arn)?;
        if let Some(status) = update.get("ModelApprovalStatus").and_then(Value::as_str) {
            check_status(status)?;
        }
        let corrupt = std::cell::RefCell::new(None);
        let written = self.writing(&path, |c| {
            let mut rec: Map<String, Value> = match db::get(c, &path)? {
                Some(bytes) => match serde_json::from_slice(&bytes) {
                    Ok(rec) => rec,
                    Err(e) => {
                        *corrupt.borrow_mut() = Some(e.to_string());
                        return Ok(None);
                    }
                },
                None => Map::new(),
            };
            if let Some(status) = update.get("ModelApprovalStatus").and_then(Value::as_str) {
                rec.insert("ModelApprovalStatus".into(), json!(status));
            }
            if let Some(d) = update.get("ApprovalDescription").filter(|v| !v.is_null()) {
                rec.insert("ApprovalDescription".into(), d.clone());
            }
            if let Some(Value::Object(add)) = update.get("CustomerMetadataProperties") {
                let entry = rec
                    .entry("CustomerMetadataProperties")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = entry {
                    m.extend(add.clone());
                }
            }
            if let Some(Value::Array(keys)) = update.get("CustomerMetadataPropertiesToRemove") {
                if let Some(Value::Object(m)) = rec.get_mut("CustomerMetadataProperties") {
                    for k in keys.iter().filter_map(Value::as_str) {
                        m.remove(k);
                    }
                }
            }
            rec.insert("LastModifiedTime".into(), json!(util::now()));
            let rec = Value::Object(rec);
            let bytes = serde_json::to_vec(&rec).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            db::put(c, &path, &bytes, util::now(), None)?;
            Ok(Some(rec))
        })?;
        match (written, corrupt.into_inner()) {
            (Some(rec), _) => Ok(rec),
            (None, msg) => Err(CoreError::CorruptRecord {
                path: self.root().join(&path),
                msg: msg.unwrap_or_default(),
            }),
        }
    }
}

/// The version numbers of `.../versions/<n>.json` paths, ascending.
fn versions_in(paths: &[String]) -> Vec<u64> {
    let mut versions: Vec<u64> = paths
        .iter()
        .filter_map(|p| p.rsplit('/').next()?.strip_suffix(".json")?.parse().ok())
        .collect();
    versions.sort_unstable();
    versions
}

impl Store {
    /// Every model and model package version record with a label naming it, for callers that
    /// must know what the registry points at (gc keeps those artifacts). A record that cannot be
    /// read comes as `{"Source", "Unreadable", "Text"}` so what it names is still known.
    pub fn registry_records(&self) -> Vec<Value> {
        let rows = self
            .reading("registry/", Vec::new(), |c| db::under(c, "registry/"))
            .unwrap_or_default();
        rows.into_iter()
            .filter_map(|(path, bytes)| {
                let parts: Vec<&str> = path.split('/').collect();
                let label = match parts.as_slice() {
                    ["registry", "models", file] => format!("model {}", file.strip_suffix(".json")?),
                    ["registry", "model-packages", group, "versions", file] => {
                        format!("model package {group}/{}", file.strip_suffix(".json")?)
                    }
                    _ => return None,
                };
                Some(match serde_json::from_slice::<Value>(&bytes) {
                    Ok(record) => {
                        let status = record.get("ModelApprovalStatus").and_then(Value::as_str);
                        let source = status.map_or(label.clone(), |s| format!("{label} ({s})"));
                        json!({"Source": source, "Record": record})
                    }
                    Err(e) => {
                        let shown = self.root().join(&path);
                        json!({
                            "Source": shown.display().to_string(),
                            "Unreadable": CoreError::CorruptRecord { path: shown, msg: e.to_string() }.to_string(),
                            "Text": String::from_utf8_lossy(&bytes),
                        })
                    }
                })
            })
            .collect()
    }
}

fn check_status(status: &str) -> CoreResult<()> {
    if APPROVAL_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(CoreError::Validation(format!(
            "ModelApprovalStatus {status:?} is not one of {}",
            APPROVAL_STATUSES.join(", ")
        )))
    }
}

fn time_of(v: &Value) -> f64 {
    v.get("CreationTime").and_then(Value::as_f64).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_from_one_and_updates_stick() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        let req = json!({"ModelPackageGroupName": "Abalone", "ModelMetrics": {"ModelQuality": {}},
                         "CustomerMetadataProperties": {"a": "1"}});
        let v1 = store.create_model_package(&req).expect("v1");
        let v2 = store.create_model_package(&req).expect("v2");
        assert_eq!(v1["ModelPackageVersion"], json!(1));
        assert_eq!(
            v2["ModelPackageArn"],
            json!("arn:aws:sagemaker:local:000000000000:model-package/Abalone/2")
        );
        assert_eq!(v1["ModelApprovalStatus"], json!("PendingManualApproval"));
        assert_eq!(store.list_model_packages("Abalone").expect("list").len(), 2);
        assert_eq!(store.list_model_package_groups().expect("groups").len(), 1);
        let arn = v2["ModelPackageArn"].as_str().expect("arn");
        let up = store
            .update_model_package(
                arn,
                &json!({"ModelApprovalStatus": "Approved", "CustomerMetadataProperties": {"b": "2"}}),
            )
            .expect("update");
        assert_eq!(up["CustomerMetadataProperties"], json!({"a": "1", "b": "2"}));
        assert_eq!(
            store.describe_model_package("Abalone/2").expect("d")["ModelApprovalStatus"],
            json!("Approved")
        );
        assert!(store
            .update_model_package(arn, &json!({"ModelApprovalStatus": "Maybe"}))
            .is_err());
        assert!(matches!(
            store.describe_model_package("Abalone/3"),
            Err(CoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.list_model_packages("Abalon"),
            Err(CoreError::NotFound {
                suggestion: Some(_),
                ..
            })
        ));
        assert!(store
            .create_model_package(&json!({"ModelPackageGroupName": "../x"}))
            .is_err());
    }

    #[test]
    fn registry_records_name_every_model_and_version_and_keep_unreadable_ones() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        store
            .put_model(&json!({"ModelName": "m-1", "PrimaryContainer": {"ModelDataUrl": "s3://b/m/model.tar.gz"}}))
            .expect("model");
        let req = json!({"ModelPackageGroupName": "G", "ModelApprovalStatus": "Approved"});
        store.create_model_package(&req).expect("v1");
        store
            .writing("registry/", |c| {
                db::put(
                    c,
                    &Store::package_record("G", 2),
                    b"{\"Inference\": \"s3://b/x",
                    0.0,
                    None,
                )
            })
            .expect("write");
        let records = store.registry_records();
        let sources: Vec<&str> = records.iter().filter_map(|r| r["Source"].as_str()).collect();
        assert_eq!(sources.len(), 3, "{records:?}");
        assert!(sources.contains(&"model m-1"));
        assert!(sources.contains(&"model package G/1 (Approved)"));
        let broken = records
            .iter()
            .find(|r| r.get("Unreadable").is_some())
            .expect("unreadable listed");
        assert!(broken["Text"].as_str().expect("text").contains("s3://b/x"));
    }

    #[test]
    fn models_round_trip() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        store
            .put_model(&json!({"ModelName": "m-1", "PrimaryContainer": {}}))
            .expect("put");
        assert_eq!(store.load_model("m-1").expect("load")["ModelName"], json!("m-1"));
        assert!(store.load_model("../m").is_err());
    }
}
