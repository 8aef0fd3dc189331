"""Numbers stated in book/computational_graphs.md, computed with companion's layers."""

from decimal import Decimal

from companion import AddLayer, MulLayer, SubLayer


def test_two_apples_with_tax():
    mul_apple, mul_tax = MulLayer(), MulLayer()
    price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)
    assert price == 220.00000000000003 and repr(price) == "220.00000000000003"
    assert Decimal(200 * 1.1) == Decimal("220.000000000000028421709430404007434844970703125")
    dapple_price, dtax = mul_tax.backward(1)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    assert (dapple, dapple_num, dtax) == (2.2, 110.00000000000001, 200.0)
    assert abs(price - 220) < 1e-9 and abs(price - 220) > 0


def test_apples_and_oranges():
    mul_apple, mul_orange, add, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    all_price = add.forward(mul_apple.forward(100, 2), mul_orange.forward(150, 3))
    price = mul_tax.forward(all_price, 1.1)
    assert all_price == 650.0 and price == 715.0000000000001
    dall, dtax = mul_tax.backward(1)
    da, do = add.backward(dall)
    assert (da, do) == (1.1, 1.1)
    dapple, dapple_num = mul_apple.backward(da)
    dorange, dorange_num = mul_orange.backward(do)
    assert (dapple_num, dapple, dorange, dorange_num, dtax) == (110.00000000000001, 2.2, 3.3000000000000003, 165.0, 650.0)


def test_snack_bill():
    mul_snack, mul_tax = MulLayer(), MulLayer()
    subtotal = mul_snack.forward(30, 5)
    total = mul_tax.forward(subtotal, 1.2)
    assert (subtotal, total) == (150.0, 180.0)
    dsubtotal, dtax = mul_tax.backward(1.0)
    dsnack, dnumber = mul_snack.backward(dsubtotal)
    assert (dsubtotal, dtax, dsnack, dnumber) == (1.2, 150.0, 6.0, 36.0)
    assert int(179.99999999999997) == 179 and round(179.99999999999997) == 180  # the note on int()


def test_exercises():
    mul_a, mul_o, add, sub, mul_t = MulLayer(), MulLayer(), AddLayer(), SubLayer(), MulLayer()
    bill = mul_t.forward(sub.forward(add.forward(mul_a.forward(100, 2), mul_o.forward(150, 3)), 50), 1.1)
    dbefore, _ = mul_t.backward(1)
    assert round(bill, 6) == 660.0 and sub.backward(dbefore)[1] == -1.1
    assert round((100 * 2 + 151 * 3) * 1.1 - (100 * 2 + 150 * 3) * 1.1, 6) == 3.3
