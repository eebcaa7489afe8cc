"""The facilitator web app: server-rendered French pages over the same services as the JSON API."""
