from tests.support import converse
def test_dbg(demo):
    for who, body in [("01","bagaimana cara kirim foto"),("01","gmn cara krm foto?"),("01","BANTUAN format sms"),("01","BANTUAN format sms"),
        ("01","BANTUAN kertas suara kurang"),("01","BANTUAN kertas suara kurang 20 lembar"),("02","HELP how do I send a photo"),("02","HELP how do I send a photo"),
        ("02","thank you"),("02","good morning"),("02","ok"),("03","terima kasih banyak pak"),("03","selamat pagi bu"),("03","sip"),("03","???"),("03","wkwkwk"),
        ("04","saksi menolak tanda tangan formulir"),("04","BANTUAN sinyal jelek tidak bisa kirim"),("04","BANTUAN apa arti kode di balasan?"),
        ("05","BANTUAN 6MFHDW 01=51"), ("05","BANTUAN 01 harusnya 51"),
        ("06", "PPWP 3576011002001 01=120 02=95 03=40 SAH=255 TS=5"), ("06", "YA")]:
        r = converse("+62812345678"+who, body)
        print(who, repr(body), "->", repr(r.text), len(r.text))
