async def test_smoke(client):
    r = await client.post("/patients", json={"nhs_number":"1373645350","name":"A","date_of_birth":"1996-02-01","postcode":"N6 2FA"})
    assert r.status_code == 201, r.text
    r = await client.get("/patients/1373645350")
    assert r.status_code == 200
