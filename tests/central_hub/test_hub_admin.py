"""Admin sign-in, roles (auditor reads only), CSRF, and the English switch."""

from __future__ import annotations

from flask import Flask
from hub_helpers import PASSWORD, add_admin, csrf_token, login, post_form


def test_wrong_password_is_refused_and_pages_need_sign_in(app: Flask) -> None:
    add_admin(app)
    client = app.test_client()
    assert client.get("/city/").status_code == 302
    bad = client.post(
        "/login",
        data={"username": "chen", "password": "nope-nope", "csrf_token": csrf_token(client)},
    )
    assert bad.status_code == 401 and "用户名或密码不正确" in bad.get_data(as_text=True)
    login(client)
    assert client.get("/city/").status_code == 200


def test_forms_without_csrf_token_are_refused(app: Flask) -> None:
    add_admin(app)
    client = app.test_client()
    response = client.post("/login", data={"username": "chen", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_auditor_reads_but_cannot_change(app: Flask) -> None:
    add_admin(app, "li", role="auditor")
    client = app.test_client()
    login(client, "li")
    assert client.get("/").status_code == 200
    assert client.get("/reconcile/").status_code == 200
    page = client.get("/").get_data(as_text=True)
    assert "新建驿站" not in page
    refused = post_form(client, "/stations", {"name": "x", "district": "y", "community": "z"})
    assert refused.status_code == 403
    assert "审计员只能查看" in refused.get_data(as_text=True)
    assert (
        post_form(
            client, "/rules/", {"kind": "announcement", "title": "t", "text": "x"}
        ).status_code
        == 403
    )


def test_pages_are_chinese_first_with_an_english_switch(app: Flask) -> None:
    add_admin(app)
    client = app.test_client()
    login(client)
    assert "驿站运行情况" in client.get("/").get_data(as_text=True)
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Stations" in english and "驿站运行情况" not in english
    assert "City view" in client.get("/city/").get_data(as_text=True)  # kept in the session
    refused = post_form(client, "/stations", {"name": "", "district": "", "community": ""})
    assert "Station name is required" in refused.get_data(as_text=True)
