"""Errors that belong to no single domain: request shape, auth, concurrency, server."""

from __future__ import annotations

from api.errors.base import (
    BadRequest,
    Conflict,
    FieldlineError,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    TooManyRequests,
    Unauthenticated,
)


class MalformedJson(BadRequest):
    code = "request.malformed_json"
    titles = {"en": "The request body is not valid JSON", "zh-CN": "请求体不是有效的 JSON"}


class InvalidCursor(BadRequest):
    code = "request.invalid_cursor"
    titles = {"en": "The pagination cursor is not valid", "zh-CN": "分页游标无效"}


class BadHeader(BadRequest):
    code = "request.invalid_header"
    titles = {"en": "A request header is not valid", "zh-CN": "请求头无效"}


class UnknownQueryParameter(BadRequest):
    """A query parameter the operation does not declare (named in ``parameters``)."""

    code = "request.unknown_query_parameter"
    titles = {
        "en": "The request has query parameters this operation does not take",
        "zh-CN": "请求包含此接口不接受的查询参数",
    }


class NestingTooDeep(BadRequest):
    code = "request.nesting_too_deep"
    titles = {
        "en": "The JSON body is nested too deeply",
        "zh-CN": "JSON 请求体嵌套层级过深",
    }


class TextInvalid(InvalidInput):
    code = "request.text_invalid"
    titles = {
        "en": "Text may not contain NUL or lone surrogates",
        "zh-CN": "文本不能包含 NUL 字符或孤立代理项",
    }


class Unreadable(BadRequest):
    code = "request.unreadable"
    titles = {
        "en": "The HTTP request cannot be read (request line or headers)",
        "zh-CN": "无法解析 HTTP 请求（请求行或请求头）",
    }


class UriTooLong(FieldlineError):
    code = "request.uri_too_long"
    titles = {"en": "The request URI is too long", "zh-CN": "请求 URI 过长"}


class HeadersTooLarge(FieldlineError):
    code = "request.headers_too_large"
    titles = {
        "en": "The request headers are too large or too many",
        "zh-CN": "请求头过大或数量过多",
    }


class ValidationFailed(InvalidInput):
    code = "request.validation_failed"
    titles = {"en": "The request has invalid fields", "zh-CN": "请求包含无效字段"}


class RouteNotFound(NotFound):
    code = "request.not_found"
    titles = {"en": "No such endpoint", "zh-CN": "接口不存在"}


class MethodNotAllowed(FieldlineError):
    code = "request.method_not_allowed"
    titles = {"en": "Method not allowed on this endpoint", "zh-CN": "此接口不支持该请求方法"}


class PayloadTooLarge(FieldlineError):
    code = "request.too_large"
    titles = {"en": "The request body is too large", "zh-CN": "请求体过大"}


class UnsupportedMediaType(FieldlineError):
    code = "request.unsupported_media_type"
    titles = {"en": "Send the body as application/json", "zh-CN": "请求体须为 application/json"}


class RateLimited(TooManyRequests):
    code = "request.rate_limited"
    titles = {"en": "Too many requests; retry later", "zh-CN": "请求过于频繁，请稍后重试"}


class VersionRequired(PreconditionRequired):
    code = "concurrency.if_match_required"
    titles = {
        "en": "Send If-Match with the ETag you last read",
        "zh-CN": "请在 If-Match 中携带最近读取的 ETag",
    }


class StaleVersion(PreconditionFailed):
    code = "concurrency.stale_version"
    titles = {
        "en": "The resource changed since you read it",
        "zh-CN": "资源在您读取后已被修改",
    }


class WeakETag(PreconditionFailed):
    code = "concurrency.weak_etag"
    titles = {
        "en": "If-Match needs a strong ETag (without W/)",
        "zh-CN": "If-Match 须为强 ETag（不带 W/）",
    }


class ConcurrentUpdate(Conflict):
    code = "concurrency.conflict"
    titles = {"en": "Another update won the race; retry", "zh-CN": "并发更新冲突，请重试"}


class ConflictingData(Conflict):
    code = "resource.conflict"
    titles = {
        "en": "The change conflicts with existing data (a duplicate, or a reference in use)",
        "zh-CN": "该修改与现有数据冲突（重复或仍被引用）",
    }


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency.key_reused"
    titles = {
        "en": "This Idempotency-Key was used with a different request",
        "zh-CN": "该幂等键已用于另一个不同的请求",
    }


class IdempotencyInProgress(Conflict):
    code = "idempotency.in_progress"
    titles = {
        "en": "A request with this Idempotency-Key is still being processed",
        "zh-CN": "使用该幂等键的请求仍在处理中",
    }


class AuthRequired(Unauthenticated):
    code = "auth.required"
    titles = {"en": "Authentication required", "zh-CN": "需要身份认证"}


class InvalidToken(Unauthenticated):
    code = "auth.invalid_token"
    titles = {"en": "The access token is invalid or expired", "zh-CN": "访问令牌无效或已过期"}


class PermissionDenied(Forbidden):
    code = "auth.forbidden"
    titles = {"en": "Your role may not do this", "zh-CN": "您的角色无权执行此操作"}


class DatabaseUnavailable(FieldlineError):
    code = "server.database_unavailable"
    titles = {
        "en": "The database is unavailable; retry shortly",
        "zh-CN": "数据库暂时不可用，请稍后重试",
    }


class InternalError(FieldlineError):
    code = "server.internal_error"
    titles = {"en": "Internal server error", "zh-CN": "服务器内部错误"}
