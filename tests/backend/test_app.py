from __future__ import annotations

from fastapi.testclient import TestClient

from backend.main import create_app
from backend.migrate import head_revision
from backend.settings import Settings
from shared.schema import Observation


def test_health_reports_the_database_and_its_schema_revision(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "schema_revision": head_revision()}


def test_health_says_degraded_when_the_database_is_unreachable() -> None:
    settings = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_openapi_lists_the_endpoints_and_docs_are_served_without_a_cdn(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/api/v1/taxonomy", "/api/v1/taxonomy/{version}"} <= set(paths)
    docs = client.get("/docs").text
    assert "/static-offline-docs/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


def test_root_leads_to_the_sign_in_page_and_web_endpoints_are_documented(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "Se connecter" in client.get("/login").text
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/auth/login",
        "/api/v1/observations",
        "/api/v1/structures/{structure_id}/dashboard",
    } <= set(paths)
    assert "/login" not in paths  # pages are not API endpoints


def test_unknown_page_is_a_french_html_page(client: TestClient) -> None:
    response = client.get("/nulle-part", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in response.text


def test_taxonomy_is_served_with_both_languages(client: TestClient) -> None:
    assert client.get("/api/v1/taxonomy").json() == {"current": "2026.1", "versions": ["2026.1"]}
    grid = client.get("/api/v1/taxonomy/2026.1").json()
    interruption = next(c for c in grid["categories"] if c["code"] == "interruption")
    assert interruption["fr"] == "Interruption" and interruption["timed"] is False


def test_unknown_taxonomy_version_is_a_structured_404(client: TestClient) -> None:
    response = client.get("/api/v1/taxonomy/1999.1")
    assert response.status_code == 404
    assert response.json() == {
        "code": "unknown_taxonomy_version",
        "message": "Version de grille inconnue : « 1999.1 ».",
        "details": [],
    }


def test_unknown_address_and_wrong_method_use_the_error_shape(client: TestClient) -> None:
    assert client.get("/api/v1/nothing-here").json()["code"] == "not_found"
    assert client.delete("/health").json()["code"] == "method_not_allowed"


def test_invalid_body_gets_french_messages_per_field(migrated_url: str) -> None:
    app = create_app(Settings(database_url=migrated_url))

    @app.post("/echo")
    def echo(observation: Observation) -> Observation:
        return observation

    with TestClient(app) as client:
        response = client.post("/echo", json={"id": "nope", "category": "pause", "note": "x" * 2001})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request"
    details = {d["field"]: d for d in body["details"]}
    assert details["body.id"]["message"] == "Identifiant (UUID) invalide."
    assert details["body.note"]["code"] == "string_too_long"
    assert details["body.occurred_at"]["message"] == "Champ obligatoire."


def test_an_unexpected_failure_is_a_500_in_the_error_shape_without_a_trace(migrated_url: str) -> None:
    app = create_app(Settings(database_url=migrated_url))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_filters_and_milestone_changes_are_documented_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    filtered = {
        ("/api/v1/observations", None),
        ("/api/v1/exports/observations.{export_format}", None),
        ("/api/v1/structures/{structure_id}/dashboard", "structure_id"),
        ("/api/v1/structures/{structure_id}/weekly", "structure_id"),
        ("/api/v1/programmes/{programme_id}/dashboard", "programme_id"),
        ("/api/v1/programmes/{programme_id}/comparison", "programme_id"),
        ("/api/v1/programmes/{programme_id}/weekly", "programme_id"),
    }
    for path, in_path in filtered:
        query = {p["name"]: p for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        assert {"category", "effect", "dimension", "impact", "hour", "weekday", "date_from", "tag"} <= set(
            query
        )
        assert query["hour"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 23}
        assert query["weekday"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 7}
        assert "enum" in query["review_status"]["schema"]  # inlined, not a reference to nowhere
        assert in_path is None or in_path not in query
    assert {"post", "get"} <= set(paths["/api/v1/programmes/{programme_id}/milestones"])
    assert {"patch", "delete"} <= set(paths["/api/v1/milestones/{milestone_id}"])
