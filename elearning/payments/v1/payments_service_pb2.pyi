import datetime

from elearning.common.v1 import common_pb2 as _common_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PaymentMethodKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_METHOD_KIND_UNSPECIFIED: _ClassVar[PaymentMethodKind]
    PAYMENT_METHOD_KIND_CARD: _ClassVar[PaymentMethodKind]
    PAYMENT_METHOD_KIND_PAYPAL: _ClassVar[PaymentMethodKind]
    PAYMENT_METHOD_KIND_BANK_TRANSFER: _ClassVar[PaymentMethodKind]

class TransactionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSACTION_KIND_UNSPECIFIED: _ClassVar[TransactionKind]
    TRANSACTION_KIND_CHARGE: _ClassVar[TransactionKind]
    TRANSACTION_KIND_REFUND: _ClassVar[TransactionKind]

class TransactionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSACTION_STATUS_UNSPECIFIED: _ClassVar[TransactionStatus]
    TRANSACTION_STATUS_PENDING: _ClassVar[TransactionStatus]
    TRANSACTION_STATUS_SUCCEEDED: _ClassVar[TransactionStatus]
    TRANSACTION_STATUS_FAILED: _ClassVar[TransactionStatus]
PAYMENT_METHOD_KIND_UNSPECIFIED: PaymentMethodKind
PAYMENT_METHOD_KIND_CARD: PaymentMethodKind
PAYMENT_METHOD_KIND_PAYPAL: PaymentMethodKind
PAYMENT_METHOD_KIND_BANK_TRANSFER: PaymentMethodKind
TRANSACTION_KIND_UNSPECIFIED: TransactionKind
TRANSACTION_KIND_CHARGE: TransactionKind
TRANSACTION_KIND_REFUND: TransactionKind
TRANSACTION_STATUS_UNSPECIFIED: TransactionStatus
TRANSACTION_STATUS_PENDING: TransactionStatus
TRANSACTION_STATUS_SUCCEEDED: TransactionStatus
TRANSACTION_STATUS_FAILED: TransactionStatus

class PaymentMethod(_message.Message):
    __slots__ = ("id", "user_id", "kind", "card_brand", "last4", "exp_month", "exp_year", "billing_name", "country_code", "is_default", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CARD_BRAND_FIELD_NUMBER: _ClassVar[int]
    LAST4_FIELD_NUMBER: _ClassVar[int]
    EXP_MONTH_FIELD_NUMBER: _ClassVar[int]
    EXP_YEAR_FIELD_NUMBER: _ClassVar[int]
    BILLING_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    user_id: int
    kind: PaymentMethodKind
    card_brand: str
    last4: str
    exp_month: int
    exp_year: int
    billing_name: str
    country_code: str
    is_default: bool
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., user_id: _Optional[int] = ..., kind: _Optional[_Union[PaymentMethodKind, str]] = ..., card_brand: _Optional[str] = ..., last4: _Optional[str] = ..., exp_month: _Optional[int] = ..., exp_year: _Optional[int] = ..., billing_name: _Optional[str] = ..., country_code: _Optional[str] = ..., is_default: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Transaction(_message.Message):
    __slots__ = ("id", "user_id", "region", "enrollment_id", "payment_method_id", "kind", "status", "amount", "refunded_amount", "parent_transaction_id", "description", "failure_reason", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PARENT_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    user_id: int
    region: _common_pb2.Region
    enrollment_id: int
    payment_method_id: int
    kind: TransactionKind
    status: TransactionStatus
    amount: _common_pb2.Money
    refunded_amount: _common_pb2.Money
    parent_transaction_id: int
    description: str
    failure_reason: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., user_id: _Optional[int] = ..., region: _Optional[_Union[_common_pb2.Region, str]] = ..., enrollment_id: _Optional[int] = ..., payment_method_id: _Optional[int] = ..., kind: _Optional[_Union[TransactionKind, str]] = ..., status: _Optional[_Union[TransactionStatus, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., refunded_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., parent_transaction_id: _Optional[int] = ..., description: _Optional[str] = ..., failure_reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Invoice(_message.Message):
    __slots__ = ("id", "transaction_id", "user_id", "invoice_number", "line_items", "subtotal", "tax", "total", "billing_name", "country_code", "issue_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LINE_ITEMS_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    BILLING_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    ISSUE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: int
    transaction_id: int
    user_id: int
    invoice_number: str
    line_items: _containers.RepeatedCompositeFieldContainer[InvoiceLineItem]
    subtotal: _common_pb2.Money
    tax: _common_pb2.Money
    total: _common_pb2.Money
    billing_name: str
    country_code: str
    issue_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., transaction_id: _Optional[int] = ..., user_id: _Optional[int] = ..., invoice_number: _Optional[str] = ..., line_items: _Optional[_Iterable[_Union[InvoiceLineItem, _Mapping]]] = ..., subtotal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., billing_name: _Optional[str] = ..., country_code: _Optional[str] = ..., issue_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InvoiceLineItem(_message.Message):
    __slots__ = ("description", "quantity", "unit_price", "total")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    description: str
    quantity: int
    unit_price: _common_pb2.Money
    total: _common_pb2.Money
    def __init__(self, description: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class CurrencyRevenue(_message.Message):
    __slots__ = ("currency_code", "gross_amount", "refunded_amount", "net_amount", "charge_count", "refund_count", "failed_count")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    GROSS_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    NET_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CHARGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    REFUND_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    gross_amount: _common_pb2.Money
    refunded_amount: _common_pb2.Money
    net_amount: _common_pb2.Money
    charge_count: int
    refund_count: int
    failed_count: int
    def __init__(self, currency_code: _Optional[str] = ..., gross_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., refunded_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., net_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., charge_count: _Optional[int] = ..., refund_count: _Optional[int] = ..., failed_count: _Optional[int] = ...) -> None: ...

class RevenueReport(_message.Message):
    __slots__ = ("region", "start_time", "end_time", "totals")
    REGION_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    region: _common_pb2.Region
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    totals: _containers.RepeatedCompositeFieldContainer[CurrencyRevenue]
    def __init__(self, region: _Optional[_Union[_common_pb2.Region, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., totals: _Optional[_Iterable[_Union[CurrencyRevenue, _Mapping]]] = ...) -> None: ...

class AddPaymentMethodRequest(_message.Message):
    __slots__ = ("payment_method", "token", "request_id")
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    payment_method: PaymentMethod
    token: str
    request_id: str
    def __init__(self, payment_method: _Optional[_Union[PaymentMethod, _Mapping]] = ..., token: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListPaymentMethodsRequest(_message.Message):
    __slots__ = ("user_id", "page_size", "page_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    page_size: int
    page_token: str
    def __init__(self, user_id: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPaymentMethodsResponse(_message.Message):
    __slots__ = ("payment_methods", "next_page_token")
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    payment_methods: _containers.RepeatedCompositeFieldContainer[PaymentMethod]
    next_page_token: str
    def __init__(self, payment_methods: _Optional[_Iterable[_Union[PaymentMethod, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeletePaymentMethodRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class CreatePaymentRequest(_message.Message):
    __slots__ = ("user_id", "enrollment_id", "payment_method_id", "amount", "description", "request_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    enrollment_id: int
    payment_method_id: int
    amount: _common_pb2.Money
    description: str
    request_id: str
    def __init__(self, user_id: _Optional[int] = ..., enrollment_id: _Optional[int] = ..., payment_method_id: _Optional[int] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreatePaymentResponse(_message.Message):
    __slots__ = ("transaction", "invoice")
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    INVOICE_FIELD_NUMBER: _ClassVar[int]
    transaction: Transaction
    invoice: Invoice
    def __init__(self, transaction: _Optional[_Union[Transaction, _Mapping]] = ..., invoice: _Optional[_Union[Invoice, _Mapping]] = ...) -> None: ...

class GetTransactionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListTransactionsRequest(_message.Message):
    __slots__ = ("user_id", "page_size", "page_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    page_size: int
    page_token: str
    def __init__(self, user_id: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTransactionsResponse(_message.Message):
    __slots__ = ("transactions", "next_page_token")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[Transaction]
    next_page_token: str
    def __init__(self, transactions: _Optional[_Iterable[_Union[Transaction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetInvoiceRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class RefundPaymentRequest(_message.Message):
    __slots__ = ("transaction_id", "amount", "reason", "request_id")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    transaction_id: int
    amount: _common_pb2.Money
    reason: str
    request_id: str
    def __init__(self, transaction_id: _Optional[int] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetRevenueReportRequest(_message.Message):
    __slots__ = ("region", "start_time", "end_time")
    REGION_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    region: _common_pb2.Region
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, region: _Optional[_Union[_common_pb2.Region, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
