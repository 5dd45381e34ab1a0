"""Protocol errors and the one catalogue of sync codes.

Every outcome a client may branch on has a stable dotted code in
:data:`CATALOGUE`, with an English and a Chinese title and the *level* it
appears at on the wire: a request-level code refuses a whole request (nothing
is applied), a mutation-level code rejects one mutation (it is quarantined), an
input code can be either (in an envelope it refuses the request, inside a
mutation's ``args`` it rejects that mutation), a conflict code explains a
``conflict`` receipt, a warning rides on an otherwise successful receipt, and a
reset code is the reason of a ``reset_required`` answer. :class:`ProtocolError`
refuses to carry a code that is not catalogued, and a test checks that every
code written anywhere in ``sync_protocol`` is here and in ``PROTOCOL.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"


class Level(StrEnum):
    INPUT = "input"
    REQUEST = "request"
    MUTATION = "mutation"
    CONFLICT = "conflict"
    WARNING = "warning"
    RESET = "reset"


@dataclass(frozen=True)
class CodeInfo:
    level: Level
    en: str
    zh_cn: str

    @property
    def titles(self) -> dict[str, str]:
        """The titles keyed the way the API's error classes key them."""
        return {"en": self.en, "zh-CN": self.zh_cn}


def _code(level: Level, en: str, zh_cn: str) -> CodeInfo:
    return CodeInfo(level, en, zh_cn)


_I, _R, _M, _C, _W, _X = (
    Level.INPUT,
    Level.REQUEST,
    Level.MUTATION,
    Level.CONFLICT,
    Level.WARNING,
    Level.RESET,
)

CATALOGUE: Mapping[str, CodeInfo] = MappingProxyType(
    {
        # Reading the JSON: where it happens decides the level (see the module docstring).
        "sync.malformed_json": _code(_I, "The body is not valid JSON", "请求体不是有效的 JSON"),
        "sync.missing_field": _code(_I, "A required field is missing", "缺少必填字段"),
        "sync.unknown_field": _code(
            _I, "The field is not part of the protocol", "协议中没有此字段"
        ),
        "sync.wrong_type": _code(_I, "The field has the wrong JSON type", "字段的 JSON 类型错误"),
        "sync.invalid_value": _code(_I, "The value is not allowed here", "此处不允许该值"),
        "sync.invalid_uuid": _code(_I, "Not a canonical UUID", "不是规范格式的 UUID"),
        "sync.invalid_hlc": _code(
            _I, "Not a valid hybrid logical clock value", "不是有效的混合逻辑时钟值"
        ),
        "sync.invalid_timestamp": _code(
            _I, "Not an RFC 3339 UTC timestamp", "不是 RFC 3339 UTC 时间"
        ),
        "sync.too_long": _code(_I, "The value is too long", "值过长"),
        # The whole request is refused; nothing was applied.
        "sync.protocol_unsupported": _code(
            _R,
            "This app speaks a protocol version the server does not",
            "服务器不支持该应用的同步协议版本",
        ),
        "sync.schema_too_new": _code(
            _R, "The app's data schema is newer than the server's", "应用的数据结构版本比服务器新"
        ),
        "sync.device_mismatch": _code(
            _R, "The device ID does not match the signed-in device", "设备 ID 与当前登录的设备不符"
        ),
        "sync.batch_too_large": _code(_R, "Too many mutations in one batch", "一批中的变更过多"),
        "sync.body_too_large": _code(
            _R, "The request body is over 8 MiB once decompressed", "请求体解压后超过 8 MiB"
        ),
        "sync.seq_gap": _code(_R, "Mutations are missing before this batch", "此批之前缺少变更"),
        "sync.seq_out_of_order": _code(
            _R, "Sequence numbers in the batch are not strictly increasing", "批内序号未严格递增"
        ),
        "sync.seq_reused": _code(
            _R, "A sequence number was reused for a different mutation", "序号被用于另一个变更"
        ),
        "sync.scope_forbidden": _code(
            _R, "The device may not pull this scope", "该设备无权拉取此范围"
        ),
        "sync.pull_first": _code(
            _R,
            "Records changed on the server since the last pull; pull first",
            "上次拉取后服务器数据已变化，请先拉取",
        ),
        "sync.checksum_mismatch": _code(
            _R, "The bytes do not match their SHA-256", "文件内容与其 SHA-256 不符"
        ),
        "sync.blob_too_large": _code(_R, "The file is too large", "文件过大"),
        "sync.unsupported_media_type": _code(
            _R, "This file type is not accepted", "不接受此文件类型"
        ),
        # One mutation is rejected and quarantined; the ones after it still run.
        "sync.unknown_mutation": _code(
            _M, "The server does not know this mutation", "服务器不认识此变更"
        ),
        "sync.not_in_scope": _code(
            _M, "The record is not in this device's scope", "该记录不在此设备的同步范围内"
        ),
        "sync.barcode_invalid": _code(
            _M,
            "The scanned code fails its symbology's check (check digit, characters, GS1)",
            "扫描的条码未通过码制校验（校验位、字符或 GS1）",
        ),
        "sync.offer_closed": _code(
            _M,
            "The offer is no longer open: answered, timed out or withdrawn",
            "该派单邀约已结束：已答复、已超时或已撤回",
        ),
        "sync.offer_expired": _code(
            _M, "The offer was accepted after its time to answer", "接受派单邀约时已超过答复时限"
        ),
        "sync.offer_ineligible": _code(
            _M,
            "The technician no longer qualifies for the offered job",
            "技师已不再符合派单工单的要求",
        ),
        "sync.illegal_transition": _code(
            _M, "The work order's status does not allow this action", "工单状态不允许此操作"
        ),
        "sync.transition_forbidden": _code(
            _M, "This party may not take the action", "该角色不能执行此操作"
        ),
        "sync.table_read_only": _code(
            _M, "The app may not add rows to this table", "应用不能向此表添加记录"
        ),
        "sync.field_read_only": _code(
            _M, "The field cannot be written by a mutation", "该字段不能通过变更写入"
        ),
        "sync.id_reused": _code(
            _M, "The client ID is already used by different content", "该客户端 ID 已被其他内容使用"
        ),
        "sync.void_forbidden": _code(
            _M,
            "Only the author or the office may void this evidence",
            "只有作者或调度可以作废此记录",
        ),
        "sync.entity_deleted": _code(_M, "The record has been deleted", "该记录已被删除"),
        "sync.invalid_signature": _code(
            _M,
            "The signature drawing is empty, too large, degenerate or has bad points",
            "签名笔迹为空、过大、过于简单或含有无效的点",
        ),
        "sync.already_signed": _code(
            _M,
            "The work order already has a signature or a recorded refusal",
            "该工单已有签名或拒签记录",
        ),
        "sync.sign_off_required": _code(
            _M,
            "Completing this work order needs the customer's signature or a recorded refusal",
            "完成此工单需要客户签名或拒签记录",
        ),
        "sync.internal_error": _code(
            _M, "The server failed to apply the mutation", "服务器应用变更时出错"
        ),
        # Why a receipt says "conflict"; a dispatcher sees the record in the inbox.
        "sync.field_not_owned": _code(
            _C,
            "The field belongs to another party; sent to the dispatcher",
            "该字段属于其他角色，已转交调度处理",
        ),
        "sync.concurrent_status": _code(
            _C,
            "The office changed the status while the device was offline",
            "设备离线期间办公室更改了状态",
        ),
        "sync.reassigned": _code(
            _C, "The order was reassigned while the device was offline", "设备离线期间工单已改派"
        ),
        # Warnings: the mutation succeeded, but someone should know.
        "sync.hlc_clamped": _code(
            _W,
            "The device clock is ahead; its timestamp was clamped",
            "设备时钟超前，时间戳已被截断",
        ),
        "sync.hlc_too_far_ahead": _code(
            _W, "The device clock is more than a day ahead", "设备时钟超前一天以上"
        ),
        "sync.receipt_pruned": _code(
            _W,
            "Already applied; its original receipt is no longer kept",
            "已应用，原回执已不再保留",
        ),
        # Reasons of reset_required: the client must re-prime (after pushing or exporting).
        "sync.schema_too_old": _code(
            _X,
            "The app's data schema is too old; update and re-sync",
            "应用的数据结构版本过旧，请更新后重新同步",
        ),
        "sync.cursor_expired": _code(
            _X, "The server no longer has changes this far back", "服务器已不再保留这么早的变更"
        ),
        "sync.server_restored": _code(
            _X, "The server was restored from a backup", "服务器已从备份恢复"
        ),
        "sync.device_retired": _code(_X, "This device has been retired", "该设备已停用"),
    }
)


class ProtocolError(Exception):
    """A refusal with a stable ``code``, an English ``detail`` and, for input, a ``field`` path.

    ``field`` uses dots and brackets from the message root: ``mutations[3].args.reason``.
    ``extra`` carries machine-readable context (``expected_seq`` for ``sync.seq_gap``).
    """

    def __init__(
        self,
        code: str,
        detail: str = "",
        field: str | None = None,
        extra: Mapping[str, JSONValue] | None = None,
    ) -> None:
        if code not in CATALOGUE:
            raise ValueError(f"uncatalogued sync code {code!r}")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail or CATALOGUE[code].en
        self.field = field
        self.extra: Mapping[str, JSONValue] = MappingProxyType(dict(extra or {}))

    @property
    def level(self) -> Level:
        return CATALOGUE[self.code].level

    def under(self, prefix: str) -> ProtocolError:
        """The same error with its field path re-rooted below ``prefix``."""
        field = prefix if not self.field else _join(prefix, self.field)
        return ProtocolError(self.code, self.detail, field, self.extra)

    def to_json(self) -> dict[str, JSONValue]:
        body: dict[str, JSONValue] = {
            "code": self.code,
            "title": CATALOGUE[self.code].en,
            "detail": self.detail,
            "field": self.field,
        }
        body.update(self.extra)
        return body


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"
