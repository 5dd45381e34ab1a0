"""The demo tenant's fixed logins (the README lists the first of each role)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from api.auth.permissions import Role

DEMO_SLUG = "demo"
DEMO_PASSWORD = "fieldline-demo"  # printed on purpose: it is a public demo
EMAIL_DOMAIN = "demo.fieldline.dev"
ADMIN_EMAIL = f"admin@{EMAIL_DOMAIN}"
DISPATCHER_EMAIL = f"dispatcher@{EMAIL_DOMAIN}"

# People whose logins are printed get fixed names; everyone else is drawn from the pools.
ADMIN_NAME = ("陈立新", "Chen Lixin")
DISPATCHER_NAME = ("王芳", "Wang Fang")
TECH01_NAME = ("张志强", "Zhang Zhiqiang")
LOGIN_CONTACT_NAMES = (("李静", "Li Jing"), ("周敏", "Zhou Min"), ("顾海峰", "Gu Haifeng"))


def technician_email(number: int) -> str:
    return f"tech{number:02d}@{EMAIL_DOMAIN}"


def contact_email(number: int) -> str:
    return f"contact{number:02d}@{EMAIL_DOMAIN}"


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str
    who: str


# Who to try first in each role. tech01 leads the Pudong team and has open work today;
# contact01 belongs to a VIP customer with orders in every status.
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(Role.ADMIN, ADMIN_EMAIL, "陈立新 Chen Lixin"),
    DemoLogin(Role.DISPATCHER, DISPATCHER_EMAIL, "王芳 Wang Fang"),
    DemoLogin(Role.TECHNICIAN, technician_email(1), "张志强 Zhang Zhiqiang, Pudong team lead"),
    DemoLogin(Role.CUSTOMER_CONTACT, contact_email(1), "李静 Li Jing, Lujiazui Financial Tower"),
)
MORE_LOGINS = "Also tech02…tech20 (tech07 and tech14 have left), contact02 and contact03."


def print_logins(echo: Callable[[str], object]) -> None:
    """Print the demo logins through ``echo`` (``click.echo`` or ``print``)."""
    echo(f"Demo logins — tenant {DEMO_SLUG!r}, password {DEMO_PASSWORD!r} for everyone:")
    echo(f"  {'role':<17} {'tenant':<7} {'email':<32} {'password':<15} who")
    for login in DEMO_LOGINS:
        echo(
            f"  {login.role.value:<17} {DEMO_SLUG:<7} {login.email:<32} "
            f"{DEMO_PASSWORD:<15} {login.who}"
        )
    echo(f"  {MORE_LOGINS}")
