"""Category errors."""

from __future__ import annotations

from api.errors.base import Conflict, InvalidInput, NotFound


class CategoryNotFound(NotFound):
    code = "category.not_found"
    titles = {"en": "No such category", "zh-CN": "分类不存在"}


class CategoryTooDeep(InvalidInput):
    code = "category.too_deep"
    titles = {
        "en": "Categories have at most three levels",
        "zh-CN": "分类最多三级",
    }


class CategoryCodeTaken(Conflict):
    code = "category.code_taken"
    titles = {"en": "Another category already uses this code", "zh-CN": "该分类编码已被使用"}


class CategoryHasActiveChildren(Conflict):
    code = "category.has_active_children"
    titles = {
        "en": "Deactivate the category's active subcategories first",
        "zh-CN": "请先停用该分类下的启用子分类",
    }


class CategoryParentInactive(Conflict):
    code = "category.parent_inactive"
    titles = {
        "en": "An active category needs an active parent",
        "zh-CN": "上级分类已停用，无法启用此分类",
    }
