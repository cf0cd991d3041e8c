//! Health and the OpenAPI document.

use crate::helpers::TestApp;
use crate::on_both;

async fn healthz_answers_when_the_database_answers(app: &TestApp) {
    let r = app.anonymous().get("/healthz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
}
on_both!(healthz_answers_when_the_database_answers);

async fn openapi_document_is_valid_openapi_3(app: &TestApp) {
    let r = app.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["openapi"].as_str().unwrap_or("").starts_with("3."),
        "{}",
        r.body["openapi"]
    );
    for path in [
        "/api/v1/organizations",
        "/api/v1/subscriptions",
        "/api/v1/services",
        "/api/v1/plans",
        "/api/v1/relationships",
        "/api/v1/users",
        "/api/v1/audit",
    ] {
        assert!(
            r.body["paths"][path].is_object(),
            "{path} is missing from the OpenAPI document"
        );
    }
    // An independent validator (installed by .ci/run) checks the document against the OpenAPI schema.
    let file =
        std::env::temp_dir().join(format!("fasttrack-openapi-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, r.body.to_string()).expect("write openapi");
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys, json; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')"])
        .arg(&file)
        .output()
        .expect("python3 runs (install openapi-spec-validator: pip install openapi-spec-validator)");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
on_both!(openapi_document_is_valid_openapi_3);

async fn unknown_paths_and_methods_answer_with_problem_documents(app: &TestApp) {
    let c = app.anonymous();
    crate::helpers::assert_problem(&c.get("/api/v1/nothing-here").await, 404);
    let r = c.send(reqwest::Method::DELETE, "/healthz", None).await;
    crate::helpers::assert_problem(&r, 405);
}
on_both!(unknown_paths_and_methods_answer_with_problem_documents);
