from tests.helpers import Stack


def test_ticket_created_through_the_api_is_readable_at_once(any_stack: Stack) -> None:
    client = any_stack.client()
    response = client.post(
        "/api/v1/tickets",
        json={
            "subject": "Broken kettle",
            "body": "It stopped heating.",
            "customer": {"email": "Jana.Novakova@example.com", "name": "Jana"},
            "order_number": "ORD-1001",
        },
        headers=any_stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    detail = client.get(f"/api/v1/tickets/{created['number']}", headers=any_stack.api())
    assert detail.status_code == 200
    body = detail.get_json()
    assert body["state"] == "new"
    assert body["order"]["number"] == "ORD-1001"
    assert body["assignee"] == "agent1"
    print(body)
