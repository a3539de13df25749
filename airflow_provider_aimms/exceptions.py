"""
Exceptions raised by the AIMMS provider.

Callers catch narrowly: an operator adopts a task on :class:`AimmsNotFoundError`, stops retrying on
:class:`AimmsAuthenticationError`, and tells the user to look for an orphan on
:class:`AimmsTaskMaybeCreatedError`. Everything else that AIMMS answered is an :class:`AimmsApiError`.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import AirflowException


class AimmsError(AirflowException):
    """Base class of every error this provider raises on purpose."""


class AimmsParameterError(AimmsError, ValueError):
    """A caller passed a value that cannot be sent to AIMMS; raised before any request."""

    def __init__(self, parameter: str, problem: str, fix: str) -> None:
        self.parameter = parameter
        super().__init__(f"Invalid `{parameter}`: {problem}. {fix}")


class AimmsConnectionConfigError(AimmsError):
    """The Airflow connection lacks what the hook needs (account URL or API key)."""


class AimmsApiError(AimmsError):
    """
    AIMMS PRO answered with an error, or could not be reached.

    :param message: the human-readable message; AIMMS's own ``message`` when it sent one.
    :param status_code: the HTTP status, or ``None`` when no answer arrived.
    :param error_code: AIMMS's ``errorCode`` from the error body, if any.
    :param error_id: AIMMS's ``errorId``, a correlation id to quote to AIMMS support.
    :param retry_after: seconds AIMMS asked us to wait (``Retry-After``), if it did.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: int | None = None,
        error_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        # AirflowException declares status_code as the REST status of an Airflow API error; here it is
        # the status AIMMS answered with, or None when it did not answer.
        self.status_code = status_code  # type: ignore[assignment]
        self.error_code = error_code
        self.error_id = error_id
        self.retry_after = retry_after
        super().__init__(self._describe())

    def _describe(self) -> str:
        details = []
        if self.status_code is not None:
            details.append(f"HTTP {self.status_code}")
        if self.error_code is not None:
            details.append(f"errorCode {self.error_code}")
        if self.error_id:
            details.append(f"errorId {self.error_id}")
        return f"{self.message} ({', '.join(details)})" if details else self.message


class AimmsAuthenticationError(AimmsApiError):
    """The API key was refused (401) or lacks the Tasks scope or an app permission (403)."""


class AimmsNotFoundError(AimmsApiError):
    """The app, version, service, task, run or response does not exist (404)."""


class AimmsTransportError(AimmsApiError):
    """No HTTP answer: the connection failed, was dropped, or timed out."""


class AimmsTaskMaybeCreatedError(AimmsTransportError):
    """
    A create request reached AIMMS but its answer was lost, so the task may exist.

    The hook never resends such a request, because that could start the same solve twice.
    """


class AimmsTaskFailedError(AimmsError):
    """An AIMMS task ended ``failed``, or ``completed`` with a return code the caller did not accept."""

    def __init__(self, message: str, *, aimms_task_id: str, return_code: int | None = None) -> None:
        self.aimms_task_id = aimms_task_id
        self.return_code = return_code
        super().__init__(message)


class AimmsWaitTimeoutError(AimmsError):
    """We stopped waiting for an AIMMS task; see the message for whether it was interrupted."""


class AimmsTriggerEventError(AimmsError):
    """A trigger event reached ``execute_complete`` without a status this provider knows."""


class AimmsResponseTooLargeError(AimmsError):
    """A task response is too large to put in XCom."""


class StateHookVerificationError(AimmsError):
    """An incoming ``taskStateHook`` call failed its HMAC or freshness check."""
