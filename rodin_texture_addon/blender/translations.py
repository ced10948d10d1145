"""Simplified Chinese for the add-on's interface, through Blender's own translation system.

English stays the source: each key is an English text exactly as the code writes it. A message
that embeds values is keyed by its template: the code's f-string with its values numbered in
order (``f"{obj.name} has no task to download"`` is ``"{0} has no task to download"``), and its
translation places the same numbers where the language wants them. ``iface``, ``tip`` and
``rpt`` translate a finished English message: a text of the table as it is, or one of the
templates filled in, whose translation is filled with the same values (values that are messages
themselves are translated too). So messages built far from Blender (the client's errors, the job
layer's progress) and messages saved in a .blend are translated when shown, and English is shown
unchanged.
"""

import functools
import re

import bpy

from . import ADDON_PACKAGE

# Blender's code for Simplified Chinese since 4.0 (it was zh_CN before).
LOCALE = "zh_HANS"
# A text can show as a property or label (default context "*") or as an operator's name or
# button ("Operator" context): every entry is registered in both.
CONTEXTS = ("*", "Operator")
PLACEHOLDER = re.compile(r"\{\d+\}")

ZH_HANS: dict[str, str] = {
    # --- the sidebar: panels and what they draw ---
    "Rodin": "Rodin",
    "Rodin Texture": "Rodin 贴图",
    "Advanced": "高级",
    "Job": "作业",
    "Image": "图像",
    "Prompt (optional)": "提示词（可选）",
    "Generate Texture ({0} credits)": "生成贴图（{0} 积分）",
    "Balance: {0}": "余额：{0}",
    "Result of {0}": "{0} 的结果",
    "Elapsed: {0} s": "已用时：{0} 秒",
    "Task: {0}": "任务：{0}",
    "Result: {0}": "结果：{0}",
    # --- operators: names, descriptions, properties ---
    "Generate Texture": "生成贴图",
    "Texture the selected meshes with Rodin from the reference image (0.5 credits a task)": (
        "用 Rodin 按参考图为选中的网格生成贴图（每个任务 0.5 积分）"
    ),
    "Image Path": "图像路径",
    "Resume Jobs": "继续作业",
    "Pick up every unfinished texture job stored in this file (never submits again)": (
        "继续跟进此文件中保存的所有未完成贴图作业（不会重新提交）"
    ),
    "Check Now": "立即查询",
    "Ask the service for the active object's job status now": "立即向服务查询活动物体的作业状态",
    "Download Again": "重新下载",
    "Download the active object's result again, through fresh links": (
        "通过新的链接重新下载活动物体的结果"
    ),
    "Apply Result": "应用结果",
    "Put the active object's downloaded result in the scene, over the original": (
        "将活动物体已下载的结果放入场景，覆盖在原物体上"
    ),
    "Clear Job": "清除作业",
    "Forget the active object's job and stop following it (the task stays in the service)": (
        "忘记活动物体的作业并停止跟进（任务仍保留在服务中）"
    ),
    "The upload may become a paid task: wait until the service confirms it": (
        "此次上传可能成为已付费的任务：请等待服务确认"
    ),
    "Show Original / Result": "显示原物体 / 结果",
    "Show the original object in place of its textured result, or the result again": (
        "显示原物体以代替其贴图结果，或再次显示结果"
    ),
    "Show Original": "显示原物体",
    "Show Result": "显示结果",
    "Show Texture in Solid View": "在实体视图中显示纹理",
    "Colour the Solid view by the objects' textures (the viewport's Shading > Color: Texture)": (
        "按物体的纹理为实体视图着色（视图着色 > 颜色：纹理）"
    ),
    "Open Result Folder": "打开结果文件夹",
    "Open the folder holding the active object's result": "打开存放活动物体结果的文件夹",
    "Copy Task ID": "复制任务 ID",
    "Copy the active object's task id to the clipboard": "将活动物体的任务 ID 复制到剪贴板",
    "Refresh Balance": "刷新余额",
    "Ask the service for the account's credit balance (free)": "向服务查询账户的积分余额（免费）",
    "Open Preferences": "打开偏好设置",
    "Open this add-on's preferences (API key, service, results folder)": (
        "打开本插件的偏好设置（API 密钥、服务、结果文件夹）"
    ),
    # --- operator reports ---
    "Submitting {0} texture task(s), {1} credits": "正在提交 {0} 个贴图任务，共 {1} 积分",
    "No unfinished texture jobs in this file": "此文件中没有未完成的贴图作业",
    "Resuming {0} texture job(s)": "正在继续 {0} 个贴图作业",
    "Applied the result to {0}": "已将结果应用到 {0}",
    "The folder {0} no longer exists": "文件夹 {0} 已不存在",
    "Task ID copied": "任务 ID 已复制",
    # --- the task history and recovery ---
    "History": "历史",
    "Show the task history": "显示任务历史",
    "All Files": "所有文件",
    "Show the tasks of every file, not only this one's": "显示所有文件的任务，而不只是此文件的",
    "No tasks in the last 7 days": "最近 7 天没有任务",
    "File ID": "文件 ID",
    "Bake on the CPU": "使用 CPU 烘焙",
    "Bake Apply to Original on the CPU even when Cycles' preferences name a GPU": (
        "即使 Cycles 偏好设置中指定了 GPU，也使用 CPU 进行“应用到原物体”的烘焙"
    ),
    "The material Apply to Original made on this mesh, baked again in place": (
        "“应用到原物体”在此网格上创建的材质，再次烘焙时原位更新"
    ),
    "Which .blend this is, for the task history: kept through Save As": (
        "用于任务历史的 .blend 文件标识：另存为时保留"
    ),
    (
        "The results to recover belong to no object of this file: select the mesh to give one "
        "to, then press Recover again"
    ): "待恢复的结果不属于此文件中的任何物体：请选择要接收结果的网格，然后再次按“恢复”",
    "{0} is {1}, not a mesh: a result goes onto a mesh": (
        "{0} 是{1}，不是网格：结果只能应用到网格上"
    ),
    "No object is named {0}: nothing was applied": "没有名为 {0} 的物体：未应用任何内容",
    (
        "That subscription key is not task {0}'s: paste the key given with this task, or leave "
        "it empty to fetch a finished task by its id alone"
    ): "该订阅密钥不属于任务 {0}：请粘贴随此任务给出的密钥，或留空以仅凭 ID 获取已完成的任务",
    "{0} variant(s) could not be submitted: {1}": "{0} 个变体未能提交：{1}",
    (
        "Task {0} is not in the task history ({1}): copy its id and keep it, nothing else would "
        "find this paid result again"
    ): "任务 {0} 未记入任务历史（{1}）：请复制并保存其 ID，否则无法再找到这个已付费的结果",
    (
        "The task history cannot be read: {0}. Move it away or make it readable; tasks are not "
        "recorded meanwhile"
    ): "无法读取任务历史：{0}。请将其移开或使其可读；在此之前任务不会被记录",
    "{0} unreadable entries in {1} were skipped (compaction keeps them in {2})": (
        "已跳过 {1} 中 {0} 条无法读取的记录（压缩时保存在 {2} 中）"
    ),
    "Generating, or not downloaded yet": "生成中，或尚未下载",
    "Downloaded, never applied": "已下载，从未应用",
    "Applied": "已应用",
    "The service failed it": "服务端生成失败",
    "Applied to {0}": "已应用到 {0}",
    "From {0}, {1} credits": "来自 {0}，{1} 积分",
    "an unsaved file": "未保存的文件",
    "{0} paid result(s) never applied": "{0} 个已付费的结果从未应用",
    "Recover Results": "恢复结果",
    "Apply the paid results never applied, each onto its own object or the active one (free)": (
        "应用从未应用过的已付费结果，各自应用到原物体或活动物体（免费）"
    ),
    "Recovering {0} texture result(s)": "正在恢复 {0} 个贴图结果",
    "Apply to Active Object": "应用到活动物体",
    "Apply this task's result to the active object, downloading it again if needed (free)": (
        "将此任务的结果应用到活动物体，需要时重新下载（免费）"
    ),
    "Follow": "跟进",
    "Follow this unfinished task to its end, on its own object if here, else the active one": (
        "跟进此未完成的任务直到结束：原物体在此时用原物体，否则用活动物体"
    ),
    "Copy this task's id to the clipboard": "将此任务的 ID 复制到剪贴板",
    "Open the folder holding this task's result": "打开存放此任务结果的文件夹",
    "The task's result goes to {0}": "此任务的结果将应用到 {0}",
    "Select the mesh to give the result to": "请选择要接收结果的网格",
    "This task's result is not on this computer": "此任务的结果不在这台电脑上",
    "No task {0} in the history": "历史中没有任务 {0}",
    "{0} has a texture job running: wait for it or clear it first": (
        "{0} 有正在运行的贴图作业：请等待其完成或先清除"
    ),
    "From the task history": "来自任务历史",
    "Variants": "变体",
    "Tasks for each mesh, each with its own seed, to choose the best from (0.5 credits each)": (
        "每个网格生成多个任务，各用不同的种子，从中挑选最好的（每个 0.5 积分）"
    ),
    "The tasks made together with this one, to choose from": "与此任务一起生成、可供挑选的任务",
    "Seed {0}": "种子 {0}",
    "In use": "使用中",
    "Use": "使用",
    "Target Object": "目标物体",
    "The object to apply it to (default: the active one)": "要应用到的物体（默认：活动物体）",
    "use_proxy: must be True or False, not {0}": "use_proxy：必须为 True 或 False，而不是 {0}",
    "proxy_detail: must be a whole number from {0} to 100, not {1}": (
        "proxy_detail：必须是 {0} 到 100 之间的整数，而不是 {1}"
    ),
    "{0} is sent as a simplified proxy: Replace Mesh would put the proxy in place of your "
    "mesh. Choose Apply to Original (baked onto your mesh) or New Object": (
        "{0} 以简化的代理网格发送：“替换网格”会用代理网格替换您的网格。"
        "请选择“应用到原物体”（烘焙到您的网格上）或“新建物体”"
    ),
    "{0}'s upload proxy is being built: wait for its submit": (
        "{0} 的上传代理网格正在生成：请等待它提交"
    ),
    "The upload proxy of {0} could not be made: {1}": "无法生成 {0} 的上传代理网格：{1}",
    "Building the upload proxy of {0}": "正在生成 {0} 的上传代理网格",
    "Texture Together": "合并生成贴图",
    "Send the selected meshes as one model, one task for 0.5 credits in all: Rodin paints them "
    "in one style, and the result goes back onto each. The texture resolution is shared among "
    "them": (
        "将选中的网格作为一个模型、一个任务发送，共 0.5 积分：Rodin 以统一的风格为它们绘制贴图，"
        "结果再回到每个网格上。贴图分辨率由它们共享"
    ),
    "Textured Together": "合并生成贴图",
    "The meshes sent with this one as one model, and where this one was then": (
        "与此网格作为一个模型一起发送的网格，以及此网格当时的位置"
    ),
    "together: must be True or False, not {0}": "together：必须为 True 或 False，而不是 {0}",
    "{0} meshes in one task: {1} credits, not {2}": "{0} 个网格合为一个任务：{1} 积分，而非 {2}",
    "They share one texture's resolution": "它们共享一张贴图的分辨率",
    "The result is baked onto each mesh's own UVs": "结果烘焙到每个网格自己的 UV 上",
    "The result is cut into one new object over each mesh": (
        "结果被切分为多个新物体，分别覆盖在每个网格上"
    ),
    "Each mesh gets its piece of the result's mesh": "每个网格获得结果网格中属于它的部分",
    "One task with {0}": "与 {0} 同属一个任务",
    "The task textured {0} together: its result goes back onto them from their Job panel "
    "(Apply Result, Download Again)": (
        "该任务为 {0} 合并生成了贴图：请在它们的“作业”面板中将结果应用回去（应用结果、重新下载）"
    ),
    "no other mesh now": "目前没有其他网格",
    "Texture Together makes one task of the selected meshes: set Variants to 1, or turn "
    "Texture Together off": (
        "“合并生成贴图”会把选中的网格合为一个任务：请将“变体”设为 1，或关闭“合并生成贴图”"
    ),
    "An object to texture was deleted meanwhile: nothing was submitted": (
        "要生成贴图的物体在此期间被删除：未提交任何任务"
    ),
    "Undo was used while the upload was made ready: nothing was submitted; press Generate "
    "again": "准备上传期间使用了撤销：未提交任何任务，请重新点击“生成贴图”",
    "variants: must be a whole number from 1 to {0}, not {1}": (
        "variants：必须是 1 到 {0} 之间的整数，而不是 {1}"
    ),
    "Attach Task by ID": "按 ID 关联任务",
    "Follow a task submitted elsewhere onto the active object, by its id (checked first; free)": (
        "按 ID 将在别处提交的任务关联到活动物体并跟进（先经服务确认；免费）"
    ),
    "Needed to follow a task that is not finished; a finished one needs none": (
        "跟进未完成的任务时需要；已完成的任务不需要"
    ),
    "Attached by its id": "已按 ID 关联",
    "Attached the task to {0}": "已将任务关联到 {0}",
    "{0} is not a task id: paste the id the service gave": "{0} 不是任务 ID：请粘贴服务给出的 ID",
    "That is not a subscription key: paste the one the service gave": (
        "这不是订阅密钥：请粘贴服务给出的密钥"
    ),
    "The service does not know this task: {0}": "服务不认识此任务：{0}",
    "The service knows no task with this subscription key": "服务没有与此订阅密钥对应的任务",
    "This task cannot give a result: {0}": "此任务无法给出结果：{0}",
    "The service has no result for this task yet: give its subscription key too, to follow it "
    "until it is done": "服务还没有此任务的结果：请同时提供订阅密钥，以便跟进到完成",
    "{0} is gone: nothing was attached": "{0} 已不存在：未关联任何任务",
    # --- the scene's settings (what the next Generate sends) ---
    "Reference Image": "参考图",
    "The image the texture follows": "贴图所依据的图像",
    "Prompt": "提示词",
    "Optional text to guide the texture": "用于引导贴图生成的文字（可选）",
    "Seed": "种子",
    "The same seed with the same inputs gives a similar texture": (
        "相同的种子配合相同的输入会得到相似的贴图"
    ),
    "Random Seed": "随机种子",
    "Pick a new seed for every generation": "每次生成都使用新的种子",
    "Reference Scale": "参考强度",
    "How strongly the reference image drives the texture": "参考图对贴图的影响程度",
    "Material": "材质",
    "What kind of texture the service makes": "服务生成的贴图类型",
    "PBR": "PBR",
    "Base colour, roughness, metallic and normal maps": "基础色、糙度、金属度和法线贴图",
    "Shaded": "着色",
    "One colour map with lighting baked in": "一张颜色贴图，光照已烘焙在内",
    "Resolution": "分辨率",
    "The size of the texture maps": "贴图的尺寸",
    "Basic (2K)": "基础（2K）",
    "2048 × 2048 textures": "2048 × 2048 贴图",
    "High (4K)": "高（4K）",
    "4096 × 4096 textures": "4096 × 4096 贴图",
    "PBR Detail": "PBR 细节",
    "The service's 'escore': how much detail the PBR maps get": (
        "服务的 escore 参数：PBR 贴图所得细节的多少"
    ),
    "Remove Lighting": "去除光照",
    "Remove lighting baked into the reference image (texture_delight)": (
        "去除参考图中自带的光照（texture_delight）"
    ),
    "Apply As": "应用方式",
    "New Object": "新建物体",
    "Add the textured result beside the original, which stays untouched": (
        "将带贴图的结果添加到原物体旁，原物体保持不变"
    ),
    "Replace Mesh": "替换网格",
    "Give the original the result's mesh and material (undoable)": (
        "将结果的网格和材质赋予原物体（可撤销）"
    ),
    # --- each object's job ---
    "Job ID": "作业 ID",
    "Owner": "所属物体",
    "The object the job was started on: a copy (Shift-D) carries a job that is not its own": (
        "作业开始时所在的物体：副本（Shift-D）携带的作业不属于它自己"
    ),
    "Status": "状态",
    "Progress": "进度",
    "Message": "消息",
    "What To Do": "处理建议",
    "Task ID": "任务 ID",
    "The Rodin task's id": "Rodin 任务的 ID",
    "Subscription Key": "订阅密钥",
    "Job IDs": "作业 ID 列表",
    "Comma-separated job ids": "以逗号分隔的作业 ID",
    "Queue Length": "队列长度",
    "Submitted At": "提交时间",
    "Finished At": "完成时间",
    "Settings Used": "所用设置",
    "Result Folder": "结果文件夹",
    "Result Model": "结果模型",
    "Preview": "预览",
    "Result": "结果",
    "Source": "源物体",
    # --- progress stages: the status list, and the panel's status line ---
    "Idle": "空闲",
    "Exporting": "导出中",
    "Uploading": "上传中",
    "Waiting": "等待中",
    "Generating": "生成中",
    "Downloading": "下载中",
    "Done": "完成",
    "Failed": "失败",
    "idle": "空闲",
    "exporting": "导出中",
    "uploading": "上传中",
    "waiting": "等待中",
    "generating": "生成中",
    "downloading": "下载中",
    "done": "完成",
    "failed": "失败",
    "uploading {0}": "上传中 {0}",
    "downloading {0}": "下载中 {0}",
    "waiting (queue {0})": "等待中（队列 {0}）",
    "failed: {0}": "失败：{0}",
    "Checking": "查询中",
    "Submitted": "已提交",
    "Waiting for a free slot on the account": "正在等待账户空出任务名额",
    "Waiting in the service's queue": "正在服务队列中等待",
    "Connection problem, retrying: {0}": "连接出现问题，正在重试：{0}",
    "Download problem, retrying: {0}": "下载出现问题，正在重试：{0}",
    "Not submitted: {0}": "未提交：{0}",
    "no result after {0} minutes": "{0} 分钟后仍无结果",
    "The task may still finish: press Check Now later.": "任务可能仍会完成：请稍后点击“立即查询”。",
    "the service listed no result model": "服务没有列出结果模型",
    "internal error: {0}": "内部错误：{0}",
    # --- add-on preferences ---
    "API Key": "API 密钥",
    "Your Hyper3D Rodin API key. Empty: RODIN_API_KEY or HYPER3D_API_KEY": (
        "你的 Hyper3D Rodin API 密钥。留空则使用 RODIN_API_KEY 或 HYPER3D_API_KEY"
    ),
    "Using the key from the environment": "正在使用环境变量中的密钥",
    "Service URL": "服务地址",
    "The Rodin API's base address (change only for a local emulator or a proxy)": (
        "Rodin API 的基础地址（仅在使用本地模拟器或代理时修改）"
    ),
    "Results Folder": "结果文件夹",
    "Where results are saved (a path starting with // is relative to the saved .blend). "
    "Empty: 'rodin_results' beside the saved .blend, else the add-on's own user folder": (
        "结果的保存位置（以 // 开头的路径相对于已保存的 .blend 文件）。"
        "留空则保存到已保存的 .blend 文件旁的 rodin_results 文件夹，"
        "文件未保存时保存到插件自己的用户文件夹"
    ),
    "Import Results Automatically": "自动导入结果",
    "Apply each result in the scene as soon as it is downloaded": (
        "每个结果下载完成后立即应用到场景中"
    ),
    "CA Bundle": "CA 证书包",
    "A certificate bundle (.pem) for networks that inspect HTTPS (company proxies)": (
        "用于会检查 HTTPS 流量的网络（如公司代理）的证书包（.pem）"
    ),
    "Proxy": "代理",
    "An HTTP(S) proxy, such as http://proxy:3128. Empty: the system's settings": (
        "HTTP(S) 代理，例如 http://proxy:3128。留空则使用系统设置"
    ),
    "Requests per Minute": "每分钟请求数",
    "The account's API request limit; the add-on stays under it": (
        "账户的 API 请求上限；插件会保持在此上限以下"
    ),
    # --- why something cannot run, and what to do ---
    "Online access is off: allow it in Preferences > System > Network": (
        "联网访问已关闭：请在 偏好设置 > 系统 > 网络 中允许"
    ),
    "No API key: set it in the add-on preferences (or RODIN_API_KEY)": (
        "没有 API 密钥：请在插件偏好设置中填写（或设置 RODIN_API_KEY）"
    ),
    "Character {0} of {1} in the API key is {2}, which no key has (a key is printable ASCII "
    "without spaces): copy it again from Rodin": (
        "API 密钥的第 {0} 个字符（共 {1} 个）是 {2}，密钥中不会有这种字符（密钥只含可打印的 "
        "ASCII 字符，没有空格）：请从 Rodin 重新复制"
    ),
    "The image path is empty: give an image file, or pick an image in the panel": (
        "图像路径为空：请提供一个图像文件，或在面板中选择一张图像"
    ),
    "Results folder: {0}; choose another in the add-on's preferences": (
        "结果文件夹：{0}；请在插件偏好设置中另选一个"
    ),
    "The results folder {0} is relative to the .blend file: save the file first, or choose a "
    "full path in the add-on's preferences": (
        "结果文件夹 {0} 是相对于 .blend 文件的路径：请先保存文件，或在插件偏好设置中选择完整路径"
    ),
    "{0} is a file, not a folder": "{0} 是一个文件，不是文件夹",
    "cannot write in {0}: {1}": "无法写入 {0}：{1}",
    "cannot save the result in {0}: {1}": "无法将结果保存到 {0}：{1}",
    "Choose a results folder you can write to, then press Download Again.": (
        "请选择一个可写入的结果文件夹，然后点击“重新下载”。"
    ),
    "Select a mesh to texture": "请选择要生成贴图的网格",
    "Pick a reference image (or give image_path)": "请选择一张参考图（或提供 image_path）",
    "The image {0} has no pixels (its file is missing)": "图像 {0} 没有像素（其文件已丢失）",
    "{0} is {1}, not a mesh": "{0} 是{1}，不是网格",
    "{0} already has a texture job running": "{0} 已有一个贴图作业正在运行",
    "{0} has an unfinished task: resume it or clear it first": (
        "{0} 有未完成的任务：请先继续或清除它"
    ),
    "{0} has no submitted task to resume": "{0} 没有可继续的已提交任务",
    "{0} has no task to download": "{0} 没有可下载的任务",
    "{0}'s job is still running": "{0} 的作业仍在运行",
    "The service never confirmed a task for this job": "服务从未确认此作业的任务",
    "Nothing is downloaded yet": "尚未下载任何内容",
    "The downloaded file is gone: press Download Again": "下载的文件已不存在：请点击“重新下载”",
    "The job is still running: its result comes by itself": "作业仍在运行：结果会自动送达",
    "{0} has no downloaded result to apply": "{0} 没有可应用的已下载结果",
    "Could not apply the result: {0}": "无法应用结果：{0}",
    "Could not apply the result: internal error: {0}": "无法应用结果：内部错误：{0}",
    "Apply Rodin texture to {0}": "将 Rodin 贴图应用到 {0}",
    "timed out waiting for the texture jobs": "等待贴图作业超时",
    "{0} credits": "{0} 积分",
    "unavailable ({0})": "不可用（{0}）",
    "Interrupted before the service confirmed the task": "在服务确认任务之前被中断",
    "Pick a reference image": "请选择一张参考图",
    "Not being followed: {0}": "未在跟进：{0}",
    "nothing follows it now: press Resume Jobs": "当前无人跟进：请点击“继续作业”",
    "The downloaded file is broken: press Download Again": "下载的文件已损坏：请点击“重新下载”",
    "The result is downloaded: fix the cause, then press Apply Result": (
        "结果已下载：排除原因后请点击“应用结果”"
    ),
    "Blender failed while {0}: {1}": "Blender 在{0}时出错：{1}",
    # Each map's step in full: a value without a space (a map's name) is never translated.
    "baking the base colour map": "烘焙基础色贴图",
    "baking the roughness map": "烘焙糙度贴图",
    "baking the metallic map": "烘焙金属度贴图",
    "baking the normal map": "烘焙法线贴图",
    "baking the colour map": "烘焙颜色贴图",
    "joining the result's parts": "合并结果的各部分",
    "unwrapping {0}": "展开 {0} 的 UV",
    # --- Apply to Original as Blender's bake job (with a window) ---
    "Baking {0} ({1} of {2})": "正在烘焙{0}（第 {1} 张，共 {2} 张）",
    "base colour": "基础色",
    "roughness": "糙度",
    "metallic": "金属度",
    "normal": "法线",
    "colour": "颜色",
    "Cancel Bake": "取消烘焙",
    "Stop baking the result onto the active object after the map being baked, undoing it all": (
        "在当前贴图烘焙完成后停止将结果烘焙到活动物体上，并撤销全部更改"
    ),
    "Stopping once this map is baked": "此贴图烘焙完成后即停止",
    "Baking the result onto {0}: the Rodin panel shows how far": (
        "正在将结果烘焙到 {0} 上：进度见 Rodin 面板"
    ),
    "{0}'s result is being baked: wait for it, or cancel it": "{0} 的结果正在烘焙：请等待或取消",
    "{0}'s result is to be baked after {1}'s: wait, or cancel the bake": (
        "{0} 的结果将在 {1} 之后烘焙：请等待，或取消正在进行的烘焙"
    ),
    "To be baked after {0}": "将在 {0} 之后烘焙",
    "Blender is already baking: wait for that bake to end": "Blender 正在烘焙：请等待该烘焙结束",
    "Blender did not start baking the {0} map": "Blender 未开始烘焙{0}贴图",
    "Could not apply the result: Blender failed while baking: {0}": (
        "无法应用结果：Blender 烘焙时出错：{0}"
    ),
    "The result is downloaded: press Apply Result to try again": (
        "结果已下载：请点击“应用结果”重试"
    ),
    "importing {0}": "导入 {0}",
    "Cannot read {0}: {1}": "无法读取 {0}：{1}",
    (
        "{0}'s transform is not a number or infinite: set its location, rotation and scale to "
        "real values (Object > Clear > All), then try again"
    ): (
        "{0} 的变换不是数字或为无穷大：请将其位置、旋转和缩放设为实数（物体 > 清空 > 全部），"
        "然后重试"
    ),
    (
        "{0} has {1} vertices at no real position (not a number or infinite: vertex {2}): "
        "delete or move them (after its modifiers, if they made them), then try again"
    ): (
        "{0} 有 {1} 个顶点位置无效（不是数字或为无穷大：顶点 {2}）：请删除或移动它们"
        "（如由修改器产生，则在修改器之后），然后重试"
    ),
    "{0} is not a file (a folder, a pipe or a device): choose a file": (
        "{0} 不是文件（而是文件夹、管道或设备）：请选择一个文件"
    ),
    (
        "{0} is {1} x {2} pixels ({3} megapixels); the service documents no limit, and this "
        "add-on sends at most {4} megapixels: scale the image down (the texture made is at most "
        "4096 pixels a side)"
    ): (
        "{0} 为 {1} x {2} 像素（{3} 百万像素）；服务未说明上限，本插件最多发送 {4} 百万像素："
        "请缩小图像（生成的贴图每边最多 4096 像素）"
    ),
    "Generate again (nothing was charged unless the upload had finished)": (
        "请重新生成（除非上传已完成，否则不会扣费）"
    ),
    # --- export and apply ---
    "{0} has no faces: Rodin textures surfaces, so give it faces": (
        "{0} 没有面：Rodin 只为表面生成贴图，请为它添加面"
    ),
    "{0} has no faces after its modifiers: Rodin textures surfaces, so give it faces or "
    "turn off the modifiers that remove them": (
        "{0} 在修改器作用后没有面：Rodin 只为表面生成贴图，请为它添加面，或关闭删除面的修改器"
    ),
    "Blender could not export {0}: {1}": "Blender 无法导出 {0}：{1}",
    "{0} makes a {1} MB upload, over Rodin's {2} MB limit: turn on Upload Proxies, or add a "
    "Decimate modifier or reduce its subdivision levels, then try again": (
        "{0} 的上传文件为 {1} MB，超过 Rodin 的 {2} MB 上限："
        "请开启“上传代理”，或添加“精简”修改器、降低细分级别，然后重试"
    ),
    "{0} is over Rodin's limit and cannot be sent as a proxy: {1}. Remesh it (Remesh or "
    "Decimate modifier), then try again": (
        "{0} 超过 Rodin 的上限，也无法以代理网格发送：{1}。"
        "请先重构网格（“重构网格”或“精简”修改器），然后重试"
    ),
    "{0}: {1} triangles, over Rodin's 10 MB: turn on Upload Proxies": (
        "{0}：{1} 个三角面，超过 Rodin 的 10 MB：请开启“上传代理”"
    ),
    "{0} would be sent as a simplified proxy, which --replace would put in place of the "
    "mesh: leave --replace out": (
        "{0} 将以简化的代理网格发送，--replace 会用它替换网格：请去掉 --replace"
    ),
    "{0}: {1} triangles, sent as a {2} triangle proxy": (
        "{0}：{1} 个三角面，将以 {2} 个三角面的代理网格发送"
    ),
    "Its textures are baked back onto your mesh": "贴图将烘焙回您的网格",
    "The result is the textured proxy, beside your mesh": "结果为带贴图的代理网格，放在您的网格旁",
    "Replace Mesh cannot take a proxy: choose Apply to Original": (
        "“替换网格”不能使用代理网格：请选择“应用到原物体”"
    ),
    "Sent as a {0} triangle proxy of {1}": "以 {0} 个三角面的代理网格代替 {1} 个三角面发送",
    "Deviation: {0} mean, {1} worst": "偏差：平均 {0}，最大 {1}",
    "Upload Proxies": "上传代理",
    "Send a mesh over Rodin's 10 MB limit as a simplified copy (your mesh is not changed), "
    "whose result Apply to Original bakes onto it; off, such a mesh is refused": (
        "将超过 Rodin 10 MB 上限的网格以简化副本发送（不改动您的网格），"
        "其结果由“应用到原物体”烘焙回原网格；关闭时，这样的网格会被拒绝"
    ),
    "Proxy Detail": "代理精度",
    "How much of Rodin's 10 MB limit a proxy may fill: less is a coarser, faster upload": (
        "代理网格可占用 Rodin 10 MB 上限的比例：越小越粗糙，上传越快"
    ),
    "Upload Proxy": "上传代理网格",
    "The simplified copy sent in the mesh's place, if any": "代替网格发送的简化副本（如有）",
    "it has no surface to simplify": "它没有可简化的表面",
    "no proxy of it fits the limit": "没有能放进上限的代理网格",
    "the proxy that fits would lose or move {0} of its surface out of the bake's reach "
    "(scattered or very fine parts simplify badly)": (
        "能放进上限的代理网格会让 {0} 的表面丢失或偏离到烘焙范围之外（零散或极细的部分难以简化）"
    ),
    "The object to texture no longer exists: select a mesh": (
        "要生成贴图的物体已不存在：请选择一个网格"
    ),
    "{0} is {1}, not a mesh: convert it to a mesh or select a mesh object": (
        "{0} 是{1}，不是网格：请将其转换为网格，或选择一个网格物体"
    ),
    "a curve": "曲线",
    "a surface": "曲面",
    "a metaball": "融球",
    "a text object": "文本物体",
    "a hair curves object": "毛发曲线物体",
    "a point cloud": "点云",
    "a volume": "体积",
    "a Grease Pencil object": "蜡笔物体",
    "an armature": "骨架",
    "a lattice": "晶格",
    "an empty": "空物体",
    "a light": "灯光",
    "a light probe": "光照探针",
    "a camera": "摄像机",
    "a speaker": "扬声器",
    "an object of another kind": "其他类型的物体",
    "{0} holds no mesh": "{0} 中没有网格",
    "{0} has no geometry to place the result over": "{0} 没有可供放置结果的几何体",
    # --- what the service and the client report (typed errors and what to do) ---
    "Check the API key in the add-on preferences (or RODIN_API_KEY).": (
        "请检查插件偏好设置中的 API 密钥（或 RODIN_API_KEY）。"
    ),
    "The Rodin API needs an active Business subscription on this account.": (
        "使用 Rodin API 需要此账户拥有有效的 Business 订阅。"
    ),
    "Add credits to the Rodin account, then retry.": "请为 Rodin 账户充值积分，然后重试。",
    "Too many tasks are running on this account; retry when one finishes.": (
        "此账户正在运行的任务过多；请等其中一个完成后重试。"
    ),
    "The service rejected the reference image; try another image.": (
        "服务拒绝了参考图；请换一张图像。"
    ),
    "The service refused the request's fields; check the settings.": (
        "服务拒绝了请求中的字段；请检查设置。"
    ),
    "The service no longer knows this task (results are kept 7 days): press Clear Job, then "
    "Generate again (a new task, 0.5 credits).": (
        "服务已不再保留此任务（结果保留 7 天）：请点击“清除作业”，"
        "然后重新生成（新任务，0.5 积分）。"
    ),
    "Generate again (a new task, 0.5 credits); if it fails again, try another reference image "
    "or prompt.": ("请重新生成（新任务，0.5 积分）；如果再次失败，请换一张参考图或换个提示词。"),
    "Set the Service URL in the add-on's preferences (Advanced) to the API's address, ending in "
    "/api/v2; empty: the default.": (
        "请在插件偏好设置（高级）中将服务 URL 设为 API 地址，以 /api/v2 结尾；留空则使用默认地址。"
    ),
    "the Service URL looks wrong: {0} answered HTTP {1}": "服务 URL 似乎有误：{0} 返回了 HTTP {1}",
    "The service may have taken the task (and its 0.5 credits) before the answer was lost: look "
    "at the account's task list on hyper3d.ai before generating again.": (
        "服务可能在回复丢失之前已接受了任务（并扣除 0.5 积分）：重新生成之前，"
        "请先在 hyper3d.ai 上查看账户的任务列表。"
    ),
    "Rate limited by the service: retrying in {0}": "服务限制了请求频率：将在 {0} 后重试",
    "Retrying in {0}: {1}": "将在 {0} 后重试：{1}",
    "The service asked us to slow down; the request is retried after the wait.": (
        "服务要求降低请求频率；等待之后会自动重试该请求。"
    ),
    "The Rodin service had a problem; retry later.": "Rodin 服务出现问题；请稍后重试。",
    "Check the internet connection, proxy and firewall settings.": (
        "请检查网络连接、代理和防火墙设置。"
    ),
    "The service did not answer in time; retry later.": "服务未及时响应；请稍后重试。",
    "Download again: each try asks the service for fresh links.": (
        "请重新下载：每次尝试都会向服务获取新的链接。"
    ),
    "must be a whole number {0}, not {1}": "必须是{0}的整数，而不是 {1}",
    "must be true or false": "必须是 true 或 false",
    "must be text": "必须是文本",
    "must be a number, not {0}": "必须是数字，而不是 {0}",
    "must be {0}, not {1}": "必须{0}，而不是 {1}",
    "from {0} to {1}": "在 {0} 到 {1} 之间",
    "greater than {0}": "大于 {0}",
    "{0} or more": "大于或等于 {0}",
    "{0}: must be one of {1}, not {2}": "{0}：必须是 {1} 之一，而不是 {2}",
    "{0} is not one of: {1}": "{0} 不是可选值之一：{1}",
    "{0} must be an https:// address (plain http only for localhost)": (
        "{0} 必须是 https:// 地址（仅 localhost 可使用普通 http）"
    ),
    "{0} is not a binary glTF (GLB) file": "{0} 不是二进制 glTF（GLB）文件",
    "{0} is not a PNG, JPEG or WebP image (checked by its content, not its name)": (
        "{0} 不是 PNG、JPEG 或 WebP 图像（按文件内容而非文件名判断）"
    ),
    "file not found: {0}": "找不到文件：{0}",
    "{0} is empty": "{0} 是空文件",
    "{0} is {1} MB; the service takes at most {2} MB": "{0} 大小为 {1} MB；服务最多接受 {2} MB",
    "cannot read {0}: {1}": "无法读取 {0}：{1}",
    "no API key: set it in the add-on preferences or RODIN_API_KEY": (
        "没有 API 密钥：请在插件偏好设置中填写，或设置 RODIN_API_KEY"
    ),
    "character {0} of {1} in the API key is {2}, which no key has (a key is printable ASCII "
    "without spaces): copy it again from Rodin": (
        "API 密钥的第 {0} 个字符（共 {1} 个）是 {2}，密钥中不会有这种字符（密钥只含可打印的 "
        "ASCII 字符，没有空格）：请从 Rodin 重新复制"
    ),
    "the API key was refused": "API 密钥被拒绝",
    "the service accepted the task but sent no task id or subscription key": (
        "服务接受了任务，但没有返回任务 ID 或订阅密钥"
    ),
    "the service reported the generation as Failed (it gives no reason)": (
        "服务报告生成失败（未给出原因）"
    ),
    "the service cancelled the generation": "服务取消了生成",
    "the service reported an unknown status {0}": "服务报告了未知状态 {0}",
    "the status answer has no job list": "状态应答中没有作业列表",
    "the status answer has a job that is not an object": "状态应答中有一项作业不是对象",
    "the download answer has no file list": "下载应答中没有文件列表",
    "the balance answer has no number": "余额应答中没有数值",
    "unreadable answer from the service (HTTP {0})": "无法读取服务的应答（HTTP {0}）",
    "HTTP {0}: {1}": "HTTP {0}：{1}",
    "rate limited by the service, retry in {0} s": "服务限制了请求频率，{0} 秒后重试",
    "the service did not answer in time ({0})": "服务未及时响应（{0}）",
    "the secure connection failed (certificate not trusted); behind a company proxy, "
    "set its CA bundle in the add-on preferences": (
        "安全连接失败（证书不受信任）；如果位于公司代理之后，请在插件偏好设置中设置其 CA 证书包"
    ),
    "could not reach the service ({0})": "无法连接到服务（{0}）",
    (
        "could not reach the proxy (the add-on preferences' Proxy, else the system's): check "
        "its address, or clear it to connect directly"
    ): "无法连接到代理（插件偏好设置中的代理，否则为系统代理）：请检查其地址，或清空以直接连接",
    "the link to {0} was refused (HTTP {1}): it has probably expired": (
        "{0} 的链接被拒绝（HTTP {1}）：链接可能已过期"
    ),
    "{0}: HTTP {1}": "{0}：HTTP {1}",
    "{0} was cut short: {1}": "{0} 下载不完整：{1}",
    "{0} is {1} bytes, over the {2}-byte limit": "{0} 大小为 {1} 字节，超过 {2} 字节的上限",
    "{0} is over the {1}-byte limit": "{0} 超过 {1} 字节的上限",
    "{0} was cut short: {1} of {2} bytes": "{0} 下载不完整：只收到 {2} 字节中的 {1} 字节",
    # Apply to original (bake onto the original's UVs)
    "Apply to Original (Keep Topology and UVs)": "应用到原物体（保留拓扑和 UV）",
    "Bake the result's textures onto the original's own UV map; its mesh stays as it is": (
        "将结果的纹理烘焙到原物体自己的 UV 贴图上；其网格保持不变"
    ),
    "Bake Size": "烘焙尺寸",
    "Result Size": "结果尺寸",
    "Bake at the size of the result's own textures": "按结果自身纹理的尺寸烘焙",
    "1K": "1K",
    "2K": "2K",
    "4K": "4K",
    "1024 × 1024 images": "1024 × 1024 图像",
    "2048 × 2048 images": "2048 × 2048 图像",
    "4096 × 4096 images": "4096 × 4096 图像",
    "Baked Material": "烘焙材质",
    "New Slot": "新建槽位",
    "Add the baked material in a new slot; the old ones stay": (
        "在新槽位中添加烘焙材质；原有材质保留"
    ),
    "Replace": "替换",
    "Put the baked material in place of the original's materials": "用烘焙材质替换原物体的材质",
    "Unwrap Meshes Without UVs": "展开没有 UV 的网格",
    "Give a mesh without a UV map one (Smart UV Project) instead of refusing it": (
        "为没有 UV 贴图的网格自动展开（智能 UV 投射），而不是拒绝"
    ),
    "{0} has no UV map": "{0} 没有 UV 贴图",
    "{0} has no UV map: unwrap it first, or choose to unwrap it automatically"
    " (Smart UV Project)": "{0} 没有 UV 贴图：请先展开，或选择自动展开（智能 UV 投射）",
    "{0} has no faces to bake onto": "{0} 没有可烘焙的面",
    "{0} is not a mesh: only meshes can take baked textures": (
        "{0} 不是网格：只有网格能接收烘焙纹理"
    ),
    "The result's material {0} has no Principled BSDF": "结果的材质 {0} 没有原理化 BSDF",
    "The result {0} has no material to bake from": "结果 {0} 没有可供烘焙的材质",
    "{0}'s modifiers remove its UV map {1}": "{0} 的修改器移除了它的 UV 贴图 {1}",
    "The service address may have moved: set the new base URL in the preferences.": (
        "服务地址可能已更改：请在偏好设置中填写新的服务地址。"
    ),
    "the result link redirected more than {0} times": "结果链接重定向超过 {0} 次",
    "the service redirected to {0} (HTTP {1}); redirects are not followed, so that the API key"
    " goes to the base URL only": (
        "服务重定向到 {0}（HTTP {1}）；为确保 API 密钥只发送到服务地址，不跟随重定向"
    ),
}


def translations_dict() -> dict:
    """The dictionary for ``bpy.app.translations.register``: {locale: {(context, msgid): text}}."""
    return {
        LOCALE: {
            (context, source): text for source, text in ZH_HANS.items() for context in CONTEXTS
        }
    }


def register():
    bpy.app.translations.register(ADDON_PACKAGE, translations_dict())
    _translated.cache_clear()


def unregister():
    bpy.app.translations.unregister(ADDON_PACKAGE)
    _translated.cache_clear()


def iface(text: str) -> str:
    """An English message as the interface shows it (labels, undo steps)."""
    return translate(text, bpy.app.translations.pgettext_iface)


def tip(text: str) -> str:
    """An English message as a tooltip shows it (the reason a button is disabled)."""
    return translate(text, bpy.app.translations.pgettext_tip)


def rpt(text: str) -> str:
    """An English message as an operator report shows it."""
    return translate(text, bpy.app.translations.pgettext_rpt)


def translate(text: str, gettext) -> str:
    """``text`` translated with ``gettext``: as a whole, else by its template, else the part
    after a leading ``"name: "`` (an error code, a field or an object name stays as it is).
    Only the table's texts are looked up: a name never picks up one of Blender's own words.
    Each finished translation is kept for the language it was made in: a panel draws the same
    messages again and again, and matching one against every template costs up to a tenth of
    a millisecond (``scripts/bench_panel_draw.py``)."""
    view = bpy.context.preferences.view
    language = (
        bpy.app.translations.locale,
        view.use_translate_interface,
        view.use_translate_tooltips,
        view.use_translate_reports,
    )
    return _translated(text, gettext, language)


@functools.lru_cache(maxsize=4096)
def _translated(text: str, gettext, language: tuple) -> str:
    if text in ZH_HANS:
        return gettext(text)
    for pattern, template in _templates():
        match = pattern.fullmatch(text)
        if match is not None:
            return _fill(template, match.groups(), gettext)
    head, separator, rest = text.partition(": ")
    if separator and rest:
        return head + separator + translate(rest, gettext)
    return text


def _fill(template: str, values: tuple[str, ...], gettext) -> str:
    """The translated template with the English message's values in its numbered places."""
    values = tuple(translate(value, gettext) if " " in value else value for value in values)
    return PLACEHOLDER.sub(lambda found: values[int(found.group()[1:-1])], gettext(template))


@functools.cache
def _templates() -> list[tuple[re.Pattern, str]]:
    """The table's templates as patterns, the most literal text first. Templates whose fixed
    part has no letters (``"{0}: {1}"``) would match any text: they are left out."""
    templates = []
    for template in ZH_HANS:
        fixed = PLACEHOLDER.split(template)
        if len(fixed) > 1 and any(character.isalpha() for character in "".join(fixed)):
            pattern = re.compile("(.*?)".join(re.escape(part) for part in fixed), re.DOTALL)
            templates.append((pattern, template))
    templates.sort(key=lambda item: -len(PLACEHOLDER.sub("", item[1])))
    return templates
