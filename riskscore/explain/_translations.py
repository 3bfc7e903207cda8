"""Every word an evidence page or a case file shows, in each language: one table per concept.

A page reads wholly in its language only when every word on it comes from here, so the
tables are kept apart by what they name and each has an entry per language of
:data:`~riskscore.explain._reasons.LANGUAGES` (a test checks that no key is missing, that
format fields agree across languages, and that a Chinese page shows none of the English
texts):

================== ============================================================
table              what it names
================== ============================================================
:data:`LABELS`      headings, summary lines, section titles and section notes
:data:`BAND_NAMES`  the model's review bands (``low`` ... ``critical``)
:data:`FAMILY_NAMES` feature families (``pricing``, ``network``, ...)
:data:`COLUMN_NAMES` table headings of the evidence sections
:data:`FACT_NAMES`  the rows of the ``account`` section
:data:`LINK_NAMES`  link types between sellers (``device_id``, ``buyer``, ...)
:data:`OUTCOME_NAMES` label kinds (``fraud``, ``counterfeit``)
:data:`ACTION_NAMES` decisions (``allow``, ``review``, ``hold``, ``block``)
:data:`CASE_LABELS` the case file's summary page and its list of files
================== ============================================================

:func:`word` looks a key up in one table; a key the table does not know (a custom band or
family) is shown as it is. The HTML pages declare ``lang`` (:data:`HTML_LANG`) and a font
stack that reaches a CJK font on Linux, macOS and Windows (:data:`FONT_STACKS`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "ACTION_NAMES",
    "BAND_NAMES",
    "CASE_LABELS",
    "CJK_FONTS",
    "COLUMN_NAMES",
    "FACT_NAMES",
    "FAMILY_NAMES",
    "FONT_STACKS",
    "HTML_LANG",
    "LABELS",
    "LINK_NAMES",
    "OUTCOME_NAMES",
    "TABLES",
    "translate_list",
    "translate_shared",
    "word",
]

#: The ``lang`` attribute of an HTML page in each language.
HTML_LANG: dict[str, str] = {"en": "en", "zh": "zh-CN"}

#: Fonts with simplified Chinese glyphs: Debian/Ubuntu (fonts-noto-cjk), Adobe's name for
#: the same design, macOS, Windows.
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
)

_LATIN_FONTS: tuple[str, ...] = ("-apple-system", "Segoe UI", "Noto Sans", "Arial")


def _stack(*families: str) -> str:
    return ", ".join(f'"{f}"' if " " in f else f for f in families) + ", sans-serif"


#: CSS ``font-family`` of a page in each language: the Chinese page names the CJK fonts
#: first; the English page keeps Latin fonts first and the CJK fonts for Chinese data.
FONT_STACKS: dict[str, str] = {
    "en": _stack(*_LATIN_FONTS, *CJK_FONTS),
    "zh": _stack(*CJK_FONTS, *_LATIN_FONTS),
}

#: Headings, summary lines, section titles (keys of
#: :data:`~riskscore.explain.EVIDENCE_SECTIONS` values) and notes (``note_*``, formatted
#: with the values of a :class:`~riskscore.explain._evidence_sections.Note`).
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Risk evidence for seller",
        "score": "Score",
        "risk_score": "Risk score (0-1000)",
        "band": "Band",
        "model": "Model",
        "model_version": "{name} (version {version})",
        "as_of": "As of",
        "generated_at": "Generated at",
        "reasons": "Reasons",
        "families": "Contribution by feature family (log-odds)",
        "evidence": "Supporting records",
        "waterfall": "How the score builds up (SHAP waterfall, log-odds)",
        "waterfall_alt": "SHAP waterfall plot of the score",
        "impact": "impact",
        "no_reasons": "No feature raised this score noticeably.",
        "no_rows": "No records before the scoring time.",
        "see": "see",
        "listings_below_market": "Listings furthest below the market price",
        "complaints_by_month": "Complaints by kind and month",
        "top_buyers": "Top buyers and shared delivery addresses",
        "linked_sellers": "Linked sellers and shared identifiers",
        "replica_titles": "Listing titles with replica wording",
        "account": "Account",
        "activity_by_month": "Orders by month",
        "base_value": "base value",
        "family": "family",
        "log_odds": "log-odds",
        "note_no_products": "No products table: no market reference prices.",
        "note_unmatched_listings": (
            "{unmatched} of {listings} listings have no matched product and reference price."
        ),
        "note_no_complaints": "No complaints table was given.",
        "note_top_buyers": (
            "{buyers} buyers, {orders} orders; {share:.0%} of orders ship to {addresses} "
            "address(es) shared by several of this seller's buyers."
        ),
        "note_linked_sellers": "The seller's web reaches {others} other seller(s).",
        "note_linked_sellers_labelled": (
            "The seller's web reaches {others} other seller(s). The seller itself was "
            "labelled {label} before the scoring time."
        ),
        "note_replica_titles": "{hits} of {listings} listing titles use replica wording.",
        "note_error": "{text}",
    },
    "zh": {
        "title": "卖家风险证据",
        "score": "风险概率",
        "risk_score": "风险分（0-1000）",
        "band": "风险等级",
        "model": "模型",
        "model_version": "{name}（版本 {version}）",
        "as_of": "评分时点",
        "generated_at": "生成时间",
        "reasons": "风险原因",
        "families": "各特征族贡献（对数几率）",
        "evidence": "支撑记录",
        "waterfall": "分数构成（SHAP 瀑布图，对数几率）",
        "waterfall_alt": "分数的 SHAP 瀑布图",
        "impact": "影响",
        "no_reasons": "没有明显推高此分数的特征。",
        "no_rows": "评分时点之前无记录。",
        "see": "见",
        "listings_below_market": "售价最低于市场价的商品",
        "complaints_by_month": "按月份和类型统计的投诉",
        "top_buyers": "主要买家及共用收货地址",
        "linked_sellers": "关联卖家及共用标识",
        "replica_titles": "含仿冒用语的商品标题",
        "account": "账户",
        "activity_by_month": "按月份统计的订单",
        "base_value": "基准值",
        "family": "特征族",
        "log_odds": "对数几率",
        "note_no_products": "未提供商品表：没有市场参考价。",
        "note_unmatched_listings": "{listings}件商品中有{unmatched}件没有匹配的商品和参考价。",
        "note_no_complaints": "未提供投诉表。",
        "note_top_buyers": (
            "{buyers}位买家，{orders}笔订单；{share:.0%}的订单寄往{addresses}个"
            "由该卖家多名买家共用的地址。"
        ),
        "note_linked_sellers": "该卖家的关联网络可达{others}个其他卖家。",
        "note_linked_sellers_labelled": (
            "该卖家的关联网络可达{others}个其他卖家。该卖家本身在评分时点前已被标记为{label}。"
        ),
        "note_replica_titles": "{listings}个商品标题中有{hits}个含仿冒用语。",
        "note_error": "{text}",
    },
}

#: The model's review bands.
BAND_NAMES: dict[str, dict[str, str]] = {
    "en": {"low": "low", "medium": "medium", "high": "high", "critical": "critical"},
    "zh": {"low": "低", "medium": "中", "high": "高", "critical": "极高"},
}

#: Feature families (the ``<family>__`` prefix of a feature name).
FAMILY_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "account": "account",
        "activity": "activity",
        "buyers": "buyers",
        "complaints": "complaints",
        "network": "network",
        "pricing": "pricing",
        "text": "text",
    },
    "zh": {
        "account": "账户",
        "activity": "经营活动",
        "buyers": "买家",
        "complaints": "投诉",
        "network": "关联网络",
        "pricing": "价格",
        "text": "标题文本",
    },
}

#: Table headings of the evidence sections (the columns of their record frames).
COLUMN_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "listing_id": "listing",
        "title": "title",
        "category": "category",
        "brand": "brand",
        "price": "price",
        "currency": "currency",
        "reference_price": "market price",
        "price_ratio": "price / market",
        "created_at": "created",
        "month": "month",
        "orders": "orders",
        "counterfeit": "counterfeit",
        "not_received": "not received",
        "not_as_described": "not as described",
        "other": "other",
        "refunded": "refunded",
        "cancelled": "cancelled",
        "buyer_id": "buyer",
        "gmv": "GMV",
        "addresses": "addresses",
        "shared_addresses": "shared addresses (buyers there)",
        "first_order": "first order",
        "seller_id": "seller",
        "links": "linked by",
        "shared": "shared values",
        "weight": "link weight",
        "label": "labels",
        "terms": "replica terms",
        "fact": "fact",
        "value": "value",
        "buyers": "buyers",
    },
    "zh": {
        "listing_id": "商品",
        "title": "标题",
        "category": "类目",
        "brand": "品牌",
        "price": "售价",
        "currency": "币种",
        "reference_price": "市场价",
        "price_ratio": "售价/市场价",
        "created_at": "创建时间",
        "month": "月份",
        "orders": "订单数",
        "counterfeit": "假货投诉",
        "not_received": "未收到货",
        "not_as_described": "货不对板",
        "other": "其他投诉",
        "refunded": "已退款",
        "cancelled": "已取消",
        "buyer_id": "买家",
        "gmv": "成交额",
        "addresses": "地址数",
        "shared_addresses": "共用地址（买家数）",
        "first_order": "首单时间",
        "seller_id": "卖家",
        "links": "关联方式",
        "shared": "共用值",
        "weight": "关联权重",
        "label": "标记",
        "terms": "仿冒用语",
        "fact": "项目",
        "value": "值",
        "buyers": "买家数",
    },
}

#: Rows of the ``account`` section.
FACT_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "registered_at": "registered",
        "account_age_days": "account age (days)",
        "region": "region",
        "listings": "listings",
        "first_listing_at": "first listing",
        "first_order_at": "first order",
        "last_order_at": "last order",
        "orders": "orders",
    },
    "zh": {
        "registered_at": "注册时间",
        "account_age_days": "账户天数",
        "region": "地区",
        "listings": "商品数",
        "first_listing_at": "首次上架",
        "first_order_at": "首单时间",
        "last_order_at": "最近订单",
        "orders": "订单数",
    },
}

#: Link types between sellers (:data:`riskscore.features.network.LINK_TYPES`).
LINK_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "payment_account": "payment account",
        "device_id": "device",
        "contact_phone": "contact phone",
        "return_address": "return address",
        "ship_address": "delivery address",
        "buyer": "buyer",
    },
    "zh": {
        "payment_account": "收款账户",
        "device_id": "设备",
        "contact_phone": "联系电话",
        "return_address": "退货地址",
        "ship_address": "收货地址",
        "buyer": "买家",
    },
}

#: Label kinds (``labels.label``).
OUTCOME_NAMES: dict[str, dict[str, str]] = {
    "en": {"fraud": "fraud", "counterfeit": "counterfeit"},
    "zh": {"fraud": "欺诈", "counterfeit": "假货"},
}

#: Decisions (:data:`riskscore.rules.ACTIONS`).
ACTION_NAMES: dict[str, dict[str, str]] = {
    "en": {"allow": "allow", "review": "review", "hold": "hold", "block": "block"},
    "zh": {"allow": "放行", "review": "人工审核", "hold": "暂扣", "block": "封禁"},
}

#: The case file's summary page (``case.md``) and the description of each file in it.
CASE_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Case file for seller",
        "decision": "Decision",
        "action": "Action",
        "decided_by": "Decided by",
        "decided_by_band": "the model band ({band})",
        "decided_by_default": "no score and no rule",
        "rules_fired": "Rules fired",
        "no_rules_fired": "none",
        "rule_set": "Rule set",
        "no_rule_set": "none (the model bands alone)",
        "legal": "Legal threshold",
        "no_legal": "not assessed",
        "files": "Files",
        "file": "file",
        "content": "content",
        "reproduce": (
            "Every file's SHA-256 is in manifest.json. Reading the case back "
            "(riskscore.case.read_case) checks them and re-scores the stored model inputs "
            "with the stored model and rule set."
        ),
        "file_case_md": "this summary",
        "file_decision_json": "the decision, score, band and rules fired",
        "file_evidence_html": "the evidence page",
        "file_evidence_md": "the evidence page as Markdown",
        "file_evidence_json": "the evidence as JSON",
        "file_legal_json": "the legal-threshold result",
        "file_legal_md": "the legal-threshold result as Markdown",
        "file_features_json": "the model inputs of the seller as of the scoring time",
        "file_reasons_csv": "the reasons, with the record files behind each",
        "file_records_seller_csv": "the seller's account row",
        "file_records_orders_csv": "the seller's orders placed before the scoring time",
        "file_records_complaints_csv": "complaints against the seller before the scoring time",
        "file_records_listings_csv": "the seller's listings created before the scoring time",
        "file_records_linked_sellers_csv": "linked sellers and each identifier they share",
        "file_model": "the model that scored the seller",
        "file_rules": "the rule set file that decided",
        "file_manifest_json": "the SHA-256 of every other file",
    },
    "zh": {
        "title": "卖家案件材料",
        "decision": "处置决定",
        "action": "处置",
        "decided_by": "决定依据",
        "decided_by_band": "模型风险等级（{band}）",
        "decided_by_default": "无评分且无规则命中",
        "rules_fired": "命中规则",
        "no_rules_fired": "无",
        "rule_set": "规则集",
        "no_rule_set": "无（仅按模型风险等级）",
        "legal": "立案标准",
        "no_legal": "未评估",
        "files": "文件",
        "file": "文件",
        "content": "内容",
        "reproduce": (
            "每个文件的 SHA-256 记录在 manifest.json 中。读取案件材料"
            "（riskscore.case.read_case）时会校验哈希，并用存档的模型和规则集对存档的模型输入"
            "重新评分。"
        ),
        "file_case_md": "本摘要",
        "file_decision_json": "处置决定、风险分、风险等级和命中规则",
        "file_evidence_html": "证据页面",
        "file_evidence_md": "证据页面（Markdown）",
        "file_evidence_json": "证据（JSON）",
        "file_legal_json": "立案标准评估结果",
        "file_legal_md": "立案标准评估结果（Markdown）",
        "file_features_json": "评分时点该卖家的模型输入",
        "file_reasons_csv": "风险原因及各原因对应的记录文件",
        "file_records_seller_csv": "卖家账户信息",
        "file_records_orders_csv": "评分时点之前该卖家的订单",
        "file_records_complaints_csv": "评分时点之前针对该卖家的投诉",
        "file_records_listings_csv": "评分时点之前该卖家创建的商品",
        "file_records_linked_sellers_csv": "关联卖家及其共用的每个标识",
        "file_model": "为该卖家评分的模型",
        "file_rules": "作出决定的规则集文件",
        "file_manifest_json": "其他所有文件的 SHA-256",
    },
}

#: Every table, by the concept it names (for the completeness tests).
TABLES: dict[str, dict[str, dict[str, str]]] = {
    "labels": LABELS,
    "bands": BAND_NAMES,
    "families": FAMILY_NAMES,
    "columns": COLUMN_NAMES,
    "facts": FACT_NAMES,
    "links": LINK_NAMES,
    "outcomes": OUTCOME_NAMES,
    "actions": ACTION_NAMES,
    "case": CASE_LABELS,
}


def word(table: Mapping[str, Mapping[str, str]], language: str, key: str) -> str:
    """Return ``key`` in ``language`` from ``table``; an unknown key is shown as it is.

    Examples
    --------
    >>> word(BAND_NAMES, "zh", "critical"), word(FAMILY_NAMES, "zh", "network")
    ('极高', '关联网络')
    >>> word(BAND_NAMES, "zh", "custom-band")
    'custom-band'
    """
    texts = table.get(language) or table["en"]
    return texts.get(key, key)


def translate_list(table: Mapping[str, Mapping[str, str]], language: str, text: str) -> str:
    """Translate a comma-separated list of keys, e.g. the ``links`` of a linked seller.

    Examples
    --------
    >>> translate_list(LINK_NAMES, "zh", "device_id,buyer")
    '设备、买家'
    >>> translate_list(OUTCOME_NAMES, "en", "counterfeit,fraud")
    'counterfeit, fraud'
    """
    if not text:
        return text
    sep = "、" if language == "zh" else ", "
    return sep.join(word(table, language, part.strip()) for part in str(text).split(","))


_SHARED = re.compile(r"(^|; )(\w+)=")


def translate_shared(language: str, text: str) -> str:
    """Translate the link types of a ``shared`` cell (``type=value; type=value``).

    Examples
    --------
    >>> translate_shared("zh", "device_id=D7; buyer=B1,B2 (+3)")
    '设备=D7; 买家=B1,B2 (+3)'
    """
    return _SHARED.sub(lambda m: m.group(1) + word(LINK_NAMES, language, m.group(2)) + "=", text)
