print("jpki-sandbox")
