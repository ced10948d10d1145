"""The batch command's command line: its options (one per texture setting, from the table),
the key from the environment, the exit status. ``scripts/batch.py`` is its front and tells how
to run it."""

import argparse
import os
import sys
from pathlib import Path

import bpy

from ..blender.export import MIN_PROXY_DETAIL, UploadChoice
from ..jobs import PollSchedule
from ..rodin import ClientSettings, TextureRequest, contract
from ..rodin.errors import InvalidInput
from ..rodin.texture_settings import SETTING_NAMES, TEXTURE_SETTINGS
from . import run
from .journal import JournalInUse
from .plan import BatchInputError

DESCRIPTION = (
    "Texture many meshes with Rodin, headless: scene files or folders in, textured GLB/.blend out."
)
KEY_VARIABLES = ("RODIN_API_KEY", "HYPER3D_API_KEY")
ADDON_NAME = __package__.rpartition(".")[0].rpartition(".")[2]  # rodin_texture_addon


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="batch.py", description=DESCRIPTION, allow_abbrev=False)
    parser.add_argument("inputs", nargs="+", type=Path, help=".blend/.glb/.fbx/.obj files, folders")
    parser.add_argument("--output", "-o", type=Path, required=True, help="folder for the results")
    parser.add_argument("--image", type=Path, help="reference image for every mesh")
    parser.add_argument(
        "--mapping",
        type=Path,
        help="JSON or CSV: asset ([folder/]file.ext::Object, [folder/]file.ext or Object), image",
    )
    add_texture_settings(parser.add_argument_group("texture settings (default: the service's)"))
    parser.add_argument(
        "--together",
        action="store_true",
        help="send each file's meshes as one model, one task (0.5 credits a file): one style "
        "for them all, the texture resolution shared; each mesh's output is its piece",
    )
    upload = parser.add_argument_group("meshes over Rodin's 10 MB limit")
    upload.add_argument(
        "--upload-proxies",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send such a mesh as a simplified proxy, whose textured copy is the result "
        "(default); --no-upload-proxies refuses it",
    )
    upload.add_argument(
        "--proxy-detail",
        type=int,
        default=100,
        metavar="PERCENT",
        help=f"how much of the limit a proxy may fill, {MIN_PROXY_DETAIL} to 100 (default 100)",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--write", choices=["glb", "blend", "both"], default="glb")
    output.add_argument(
        "--replace",
        action="store_true",
        help="in .blend output, the textured mesh replaces the original's",
    )
    service = parser.add_argument_group("service and account")
    service.add_argument(
        "--api-url", default=os.environ.get("RODIN_API_URL", contract.DEFAULT_BASE_URL)
    )
    service.add_argument("--api-key", help="prefer RODIN_API_KEY: arguments show in process lists")
    service.add_argument("--ca-bundle")
    service.add_argument("--proxy")
    service.add_argument("--requests-per-minute", type=float, default=120.0, help="default 120")
    service.add_argument(
        "--max-in-flight", type=int, help="tasks at once (default: as the account allows)"
    )
    resume = parser.add_argument_group("journal and resuming")
    resume.add_argument("--journal", type=Path, help="default: OUTPUT/.rodin-batch/journal.jsonl")
    resume.add_argument(
        "--history",
        type=Path,
        default=default_history(),
        help="the task history the add-on shows, where every task goes the moment it is paid "
        "for (default: the add-on's, installed from Blender's default repository: %(default)s)",
    )
    resume.add_argument(
        "--resubmit-unconfirmed",
        action="store_true",
        help="submit again meshes whose earlier submit may or may not have reached the service",
    )
    resume.add_argument(
        "--retry-failed", action="store_true", help="submit again failed generations"
    )
    timing = parser.add_argument_group("timing (tests and benchmarks)")
    timing.add_argument(
        "--budget-window", type=float, default=60.0, help="seconds the budget counts over"
    )
    timing.add_argument("--first-poll", type=float, default=contract.FIRST_STATUS_DELAY)
    timing.add_argument("--max-poll-interval", type=float, default=contract.MAX_STATUS_INTERVAL)
    timing.add_argument(
        "--progress-interval", type=float, default=10.0, help="seconds (0: at every update)"
    )
    arguments = parser.parse_args(argv)
    positive = ("requests_per_minute", "budget_window", "first_poll", "max_poll_interval")
    for name in positive:
        if getattr(arguments, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be greater than 0")
    if not MIN_PROXY_DETAIL <= arguments.proxy_detail <= 100:
        parser.error(f"--proxy-detail must be from {MIN_PROXY_DETAIL} to 100")
    if arguments.max_in_flight is not None and arguments.max_in_flight < 1:
        parser.error("--max-in-flight must be at least 1")
    return arguments


def add_texture_settings(group) -> None:
    """An option for each texture setting; one left out is not sent."""
    for setting in TEXTURE_SETTINGS:
        option = "--" + setting.name.replace("_", "-")
        allowed = setting.range_text()
        help_text = f"{setting.tooltip} ({allowed})" if allowed else setting.tooltip
        if setting.kind is bool:
            group.add_argument(option, action=argparse.BooleanOptionalAction, help=help_text)
        elif setting.choices:
            choices = [member.value for member in setting.kind]
            group.add_argument(option, choices=choices, help=setting.tooltip)
        else:
            group.add_argument(option, type=setting.kind, help=help_text)


def default_history() -> Path:
    """The task ledger of the add-on as installed from Blender's default extension repository."""
    folder = bpy.utils.extension_path_user(f"bl_ext.user_default.{ADDON_NAME}", path="history")
    return Path(folder) / "tasks.jsonl"


def api_key(arguments: argparse.Namespace) -> str:
    key = arguments.api_key or next(
        (os.environ[name] for name in KEY_VARIABLES if os.environ.get(name)), ""
    )
    if not key.strip():
        raise BatchInputError("no API key: set RODIN_API_KEY (or give --api-key)")
    return key


def batch_settings(arguments: argparse.Namespace) -> run.BatchSettings:
    given = {name: getattr(arguments, name) for name in SETTING_NAMES}
    template = TextureRequest(
        image_path=Path(),
        model_path=Path(),
        **{name: value for name, value in given.items() if value is not None},
    )
    return run.BatchSettings(
        inputs=arguments.inputs,
        output=arguments.output.resolve(),
        client=ClientSettings(
            api_key=api_key(arguments),
            base_url=arguments.api_url,
            ca_bundle=arguments.ca_bundle,
            proxy_url=arguments.proxy,
        ),
        template=template,
        image=arguments.image,
        mapping=arguments.mapping,
        write_glb=arguments.write in ("glb", "both"),
        write_blend=arguments.write in ("blend", "both"),
        replace=arguments.replace,
        upload=UploadChoice(
            arguments.upload_proxies, arguments.proxy_detail / 100, arguments.together
        ),
        requests_per_minute=arguments.requests_per_minute,
        budget_window=arguments.budget_window,
        max_in_flight=arguments.max_in_flight,
        schedule=PollSchedule(
            first_delay=arguments.first_poll,
            max_interval=max(arguments.first_poll, arguments.max_poll_interval),
        ),
        journal=arguments.journal,
        history=arguments.history,
        resubmit_unconfirmed=arguments.resubmit_unconfirmed,
        retry_failed=arguments.retry_failed,
        progress_interval=arguments.progress_interval,
    )


def go_online() -> None:
    """Blender's own online-access setting decides; the bpy module, which starts offline and
    has no command line of its own, is taken online by running this command."""
    if not bpy.app.binary_path:  # the module (bpy.app.module is missing before 4.3)
        bpy.context.preferences.system.use_online_access = True
    if not bpy.app.online_access:
        raise BatchInputError("online access is off: run Blender with --online-mode")


def main(argv: list[str]) -> int:
    """Run the command with these arguments; the exit status."""
    arguments = parse_arguments(argv)
    try:
        settings = batch_settings(arguments)
        go_online()
        return run.run(settings, log=lambda line: print(line, flush=True))
    except (BatchInputError, InvalidInput, JournalInUse) as error:
        print(f"batch.py: error: {error}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("Interrupted: run the same command again to resume.", file=sys.stderr, flush=True)
        return 130


def run_and_exit(argv: list[str]):
    """Run the command and leave the process with its exit status."""
    status = main(argv)
    if not bpy.app.binary_path:
        # The 4.2 and 4.3 modules crash at interpreter exit once they have exported an imported,
        # textured mesh (4.4 and later exit cleanly). Every output and the journal are closed now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
