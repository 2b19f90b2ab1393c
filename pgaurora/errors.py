"""SQLSTATE errors: every failure a client can see, named after PostgreSQL's condition names.

Owns the error classes and their SQLSTATEs (PostgreSQL's src/backend/utils/errcodes.txt).
Not the ErrorResponse encoding (wire.encoder), not logging (server).

Raise the most specific class from where the fact is known; attach detail, hint and a
1-based character `position` into the statement text when it is known. Only wire/ turns an
error into ErrorResponse fields; any other exception reaching the session is a bug and is
reported as XX000 internal_error while the server keeps serving.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PgError(Exception):
    """An error with a SQLSTATE, as PostgreSQL's ereport(ERROR, ...) raises it."""

    sqlstate: ClassVar[str] = "XX000"
    retryable: ClassVar[bool] = False
    severity: ClassVar[str] = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        hint: str | None = None,
        position: int | None = None,
        schema: str | None = None,
        table: str | None = None,
        column: str | None = None,
        constraint: str | None = None,
        datatype: str | None = None,
        where: str | None = None,
        sqlstate: str | None = None,
        routine: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position
        self.schema = schema
        self.table = table
        self.column = column
        self.constraint = constraint
        self.datatype = datatype
        self.where = where
        # PostgreSQL's source function, sent where a client tells errors apart by it (asyncpg:
        # RevalidateCachedQuery's 0A000 makes it prepare a cached statement again)
        self.routine = routine
        # an error of a statement a function ran (PostgreSQL's internal query and position in it)
        self.internal_query: str | None = None
        self.internal_position: int | None = None
        if sqlstate is not None:
            self.sqlstate = sqlstate  # type: ignore[misc]

    def fields(self) -> dict[str, Any]:
        """The optional fields that are set, keyed by attribute name."""
        names = ("detail", "hint", "position", "schema", "table", "column", "constraint", "datatype", "where",
                 "routine", "internal_position", "internal_query")
        return {n: getattr(self, n, None) for n in names if getattr(self, n, None) is not None}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sqlstate}: {self.message!r})"


class FatalError(PgError):
    """An error that ends the connection (severity FATAL)."""

    severity: ClassVar[str] = "FATAL"


# Class 08 - Connection Exception
class ConnectionException(PgError):
    sqlstate = "08000"


class ProtocolViolation(FatalError):
    sqlstate = "08P01"


class ProtocolViolationError(PgError):
    """08P01 that does not end the connection (e.g. unknown portal in Bind)."""

    sqlstate = "08P01"


# Class 0A - Feature Not Supported
class FeatureNotSupported(PgError):
    sqlstate = "0A000"


# Class 21/22 - Cardinality and data exceptions
class CardinalityViolation(PgError):
    sqlstate = "21000"


class DataException(PgError):
    sqlstate = "22000"


class StringDataRightTruncation(DataException):
    sqlstate = "22001"


class NumericValueOutOfRange(DataException):
    sqlstate = "22003"


class NullValueNotAllowed(DataException):
    sqlstate = "22004"


class InvalidDatetimeFormat(DataException):
    sqlstate = "22007"


class DatetimeFieldOverflow(DataException):
    sqlstate = "22008"


class InvalidTimeZoneDisplacementValue(DataException):
    sqlstate = "22009"


class InvalidEscapeCharacter(DataException):
    sqlstate = "22019"


class InvalidParameterValue(DataException):
    sqlstate = "22023"


class InvalidEscapeSequence(DataException):
    sqlstate = "22025"


class StringDataLengthMismatch(DataException):
    sqlstate = "22026"


class DivisionByZero(DataException):
    sqlstate = "22012"


class InvalidTextRepresentation(DataException):
    sqlstate = "22P02"


class InvalidBinaryRepresentation(DataException):
    sqlstate = "22P03"


class InvalidRegularExpression(DataException):
    sqlstate = "2201B"


class InvalidRowCountInLimitClause(DataException):
    sqlstate = "2201W"


class InvalidRowCountInResultOffsetClause(DataException):
    sqlstate = "2201X"


class ArraySubscriptError(DataException):
    sqlstate = "2202E"


class CharacterNotInRepertoire(DataException):
    sqlstate = "22021"


class UntranslatableCharacter(DataException):
    sqlstate = "22P05"


class InvalidJsonText(DataException):
    sqlstate = "22P02"


class SequenceGeneratorLimitExceeded(DataException):
    sqlstate = "2200H"


# Class 23 - Integrity Constraint Violation
class IntegrityConstraintViolation(PgError):
    sqlstate = "23000"


class NotNullViolation(IntegrityConstraintViolation):
    sqlstate = "23502"


class ForeignKeyViolation(IntegrityConstraintViolation):
    sqlstate = "23503"


class UniqueViolation(IntegrityConstraintViolation):
    sqlstate = "23505"


class CheckViolation(IntegrityConstraintViolation):
    sqlstate = "23514"


class TableSampleArgument(DataException):
    """An invalid TABLESAMPLE argument (2202H)."""

    sqlstate = "2202H"


class WithCheckOptionViolation(PgError):
    """A row written through a view WITH CHECK OPTION that the view would not show (44000)."""

    sqlstate = "44000"


class ExclusionViolation(IntegrityConstraintViolation):
    sqlstate = "23P01"


# Class 24/25/26 - cursor and transaction state
class InvalidCursorState(PgError):
    sqlstate = "24000"


class InvalidTransactionState(PgError):
    sqlstate = "25000"


class ActiveSqlTransaction(PgError):
    sqlstate = "25001"


class ReadOnlySqlTransaction(PgError):
    sqlstate = "25006"


class NoActiveSqlTransaction(PgError):
    sqlstate = "25P01"


class InFailedSqlTransaction(PgError):
    sqlstate = "25P02"


class IdleInTransactionSessionTimeout(FatalError):
    sqlstate = "25P03"


class IdleSessionTimeout(FatalError):
    sqlstate = "57P05"


class InvalidSqlStatementName(PgError):
    sqlstate = "26000"


# Class 28 - Invalid Authorization Specification
class InvalidAuthorizationSpecification(FatalError):
    sqlstate = "28000"


class InvalidPassword(FatalError):
    sqlstate = "28P01"


# Class 2B/2D/34/3B/3D/3F
class DependentObjectsStillExist(PgError):
    sqlstate = "2BP01"


class InvalidTransactionTermination(PgError):
    sqlstate = "2D000"


class InvalidCursorName(PgError):
    sqlstate = "34000"


class InvalidSavepointSpecification(PgError):
    sqlstate = "3B001"


class InvalidCatalogName(FatalError):
    sqlstate = "3D000"


class InvalidSchemaName(PgError):
    sqlstate = "3F000"


# Class 40 - Transaction Rollback
class TransactionRollback(PgError):
    sqlstate = "40000"
    retryable = True


class SerializationFailure(TransactionRollback):
    sqlstate = "40001"


class DeadlockDetected(TransactionRollback):
    sqlstate = "40P01"


# Class 42 - Syntax Error or Access Rule Violation
class SyntaxError_(PgError):
    sqlstate = "42601"


class InsufficientPrivilege(PgError):
    sqlstate = "42501"


class InvalidGrantOperation(PgError):
    """0LP01: a role grant that would make a role a member of itself."""

    sqlstate = "0LP01"


class GroupingError(PgError):
    sqlstate = "42803"


class WindowingError(PgError):
    sqlstate = "42P20"


class InvalidRecursion(PgError):
    sqlstate = "42P19"


class InvalidForeignKey(PgError):
    sqlstate = "42830"


class InvalidName(PgError):
    sqlstate = "42602"


class NameTooLong(PgError):
    sqlstate = "42622"


class ReservedName(PgError):
    sqlstate = "42939"


class DatatypeMismatch(PgError):
    sqlstate = "42804"


class IndeterminateDatatype(PgError):
    sqlstate = "42P18"


class CollationMismatch(PgError):
    sqlstate = "42P21"


class WrongObjectType(PgError):
    sqlstate = "42809"


class GeneratedAlways(PgError):
    sqlstate = "428C9"


class UndefinedColumn(PgError):
    sqlstate = "42703"


class UndefinedFunction(PgError):
    sqlstate = "42883"


class UndefinedTable(PgError):
    sqlstate = "42P01"


class UndefinedParameter(PgError):
    sqlstate = "42P02"


class UndefinedObject(PgError):
    sqlstate = "42704"


class DuplicateColumn(PgError):
    sqlstate = "42701"


class DuplicateCursor(PgError):
    sqlstate = "42P03"


class DuplicateDatabase(PgError):
    sqlstate = "42P04"


class DuplicatePreparedStatement(PgError):
    sqlstate = "42P05"


class DuplicateSchema(PgError):
    sqlstate = "42P06"


class DuplicateTable(PgError):
    sqlstate = "42P07"


class DuplicateAlias(PgError):
    sqlstate = "42712"


class DuplicateFunction(PgError):
    sqlstate = "42723"


class DuplicateObject(PgError):
    sqlstate = "42710"


class AmbiguousColumn(PgError):
    sqlstate = "42702"


class AmbiguousFunction(PgError):
    sqlstate = "42725"


class AmbiguousParameter(PgError):
    sqlstate = "42P08"


class AmbiguousAlias(PgError):
    sqlstate = "42P09"


class InvalidColumnReference(PgError):
    sqlstate = "42P10"


class InvalidColumnDefinition(PgError):
    sqlstate = "42611"


class InvalidTableDefinition(PgError):
    sqlstate = "42P16"


class InvalidObjectDefinition(PgError):
    sqlstate = "42P17"


class InvalidFunctionDefinition(PgError):
    sqlstate = "42P13"


class CannotCoerce(PgError):
    sqlstate = "42846"


# Class 53 - Insufficient Resources
class InsufficientResources(PgError):
    sqlstate = "53000"


class DiskFull(PgError):
    sqlstate = "53100"


class OutOfMemory(PgError):
    sqlstate = "53200"


class TooManyConnections(FatalError):
    sqlstate = "53300"


# Class 54/55 - limits and object state
class ProgramLimitExceeded(PgError):
    sqlstate = "54000"


class StatementTooComplex(PgError):
    sqlstate = "54001"


class ObjectNotInPrerequisiteState(PgError):
    sqlstate = "55000"


class ObjectInUse(PgError):
    sqlstate = "55006"


class LockNotAvailable(PgError):
    sqlstate = "55P03"


# Class 57 - Operator Intervention
class QueryCanceled(PgError):
    sqlstate = "57014"


class AdminShutdown(FatalError):
    sqlstate = "57P01"


class CannotConnectNow(FatalError):
    sqlstate = "57P03"


# Class 58 - System Error (errors external to PostgreSQL itself)
class SystemError_(PgError):
    sqlstate = "58000"


class IoError(PgError):
    sqlstate = "58030"


class StorageUnavailable(PgError):
    """The storage volume cannot reach a write (4/6) or read quorum in time."""

    sqlstate = "58000"


class StorageFull(StorageUnavailable):
    """No write quorum because the storage nodes' disks are full (PostgreSQL's disk_full)."""

    sqlstate = "53100"


class CommitOutcomeUnknown(StorageUnavailable, FatalError):
    """A commit whose record is in the log but not durable within the write timeout: it takes
    effect if storage makes the record durable later. An ERROR would tell the client it rolled
    back, so the session ends instead (FATAL), as a PostgreSQL session does when its server
    fails mid-commit: the client sees a lost connection, the outcome it knows to be unknown."""

    @classmethod
    def after(cls, cause: StorageUnavailable) -> CommitOutcomeUnknown:
        detail = "The transaction's commit record is in the log; it commits if storage makes it durable."
        return cls(cause.message, detail=f"{detail} {cause.detail}" if cause.detail else detail,
                   hint=cause.hint, sqlstate=cause.sqlstate)


# Class F0/P0/XX
class ConfigFileError(PgError):
    sqlstate = "F0000"


class RaiseException(PgError):
    sqlstate = "P0001"


class NoDataFound(PgError):
    sqlstate = "P0002"


class TooManyRows(PgError):
    sqlstate = "P0003"


class AssertFailure(PgError):
    sqlstate = "P0004"


class CaseNotFound(PgError):
    sqlstate = "20000"


class InternalError(PgError):
    sqlstate = "XX000"


class DataCorrupted(PgError):
    sqlstate = "XX001"


class UndefinedSetting(PgError):
    """unrecognized configuration parameter (PostgreSQL uses 42704)."""

    sqlstate = "42704"


class CantChangeRuntimeParam(PgError):
    sqlstate = "55P02"


# Appended by wire/security.
class BadCopyFileFormat(DataException):
    sqlstate = "22P04"


class FeatureNotSupportedFatal(FatalError):
    """0A000 that ends the connection (e.g. unsupported frontend protocol at start-up)."""

    sqlstate = "0A000"


# Appended by the datatypes/builtins owner: more class 22 conditions used by built-in functions.
class InvalidArgumentForLogarithm(DataException):
    sqlstate = "2201E"


class InvalidArgumentForPowerFunction(DataException):
    sqlstate = "2201F"


class FloatingPointException(DataException):
    sqlstate = "22P01"


class InvalidDatetimeFormatError(DataException):
    """22007 raised by to_date/to_timestamp template mismatches (same SQLSTATE as InvalidDatetimeFormat)."""

    sqlstate = "22007"


class InvalidPrecedingOrFollowingSize(DataException):
    sqlstate = "22013"


class NullValueNotAllowedError(DataException):
    sqlstate = "22004"


class InvalidArgumentForNtile(DataException):
    sqlstate = "22014"


class ArraySubscriptOutOfRange(DataException):
    sqlstate = "2202E"


class SubstringError(DataException):
    sqlstate = "22011"


class InvalidUseOfEscapeCharacter(DataException):
    sqlstate = "2200C"


class ZeroLengthCharacterString(DataException):
    sqlstate = "2200F"


class InvalidCharacterValueForCast(DataException):
    sqlstate = "22018"


class IntervalFieldOverflow(DataException):
    sqlstate = "22015"


class UndefinedSettingFatal(FatalError):
    """42704 for an unknown parameter in the start-up packet: the connection ends."""

    sqlstate = "42704"
