from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Region(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REGION_UNSPECIFIED: _ClassVar[Region]
    REGION_NORTH_AMERICA: _ClassVar[Region]
    REGION_SOUTH_AMERICA: _ClassVar[Region]
    REGION_EUROPE: _ClassVar[Region]
    REGION_AFRICA: _ClassVar[Region]
    REGION_ASIA: _ClassVar[Region]
    REGION_OCEANIA: _ClassVar[Region]
REGION_UNSPECIFIED: Region
REGION_NORTH_AMERICA: Region
REGION_SOUTH_AMERICA: Region
REGION_EUROPE: Region
REGION_AFRICA: Region
REGION_ASIA: Region
REGION_OCEANIA: Region

class Money(_message.Message):
    __slots__ = ("currency_code", "amount")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    amount: str
    def __init__(self, currency_code: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class ItemStatus(_message.Message):
    __slots__ = ("code", "message", "reason")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    reason: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
