"""The "AIMMS PRO task" button on a task instance, and the one place that knows the portal's URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator, TaskInstanceKey

#: The XCom key under which operators store the link, so that get_link needs no connection lookup.
TASK_URL_XCOM_KEY = "aimms_task_url"


def portal_task_url(account_url: str, aimms_task_id: str) -> str:
    """
    Return the AIMMS portal page of a task.

    AIMMS does not document a deep link to one task; this path is our guess from the portal's Tasks page.
    If it proves wrong, this function is the only place to change.
    """
    return f"{account_url}/portal/tasks?taskId={quote(aimms_task_id, safe='')}"


class AimmsTaskLink(BaseOperatorLink):
    """Link from an Airflow task instance to the AIMMS task it created or watched."""

    name = "AIMMS PRO task"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """Read the URL the operator stored in XCom; empty until the task exists."""
        url = XCom.get_value(key=TASK_URL_XCOM_KEY, ti_key=ti_key)
        return str(url) if url else ""
