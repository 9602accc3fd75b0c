"""Integer codes shared by the engine kernels: phases, move types, array columns.

The engine keeps a state in four numpy arrays so that every rule can run inside
numba-compiled code (see ``state.py``):

- ``board[cell, col]`` (int16): ``H`` stack height, ``CTRL`` controlling player (0 = no
  stack), ``CAP`` cap height, ``MARK`` marker owner (0 = none), ``COLL`` collapsed-cell owner
  (0 = not collapsed).
- ``rings[cell, k]`` (int8): the ring colours of the stack on ``cell``, **bottom first**
  (``rings[cell, H - 1]`` is the top); grown on demand.
- ``players[p, col]`` (int32), row ``p`` = player number (row 0 unused): ``HAND`` rings in hand,
  ``ELIM`` rings credited as eliminated, ``TERR`` territory spaces, ``ELIM_TURN`` the turn at which
  the player became permanently eliminated (-1 never), ``BOARD_ELIM`` the wire
  ``board.eliminatedRings`` entry (equal to ``ELIM`` unless a loaded state disagreed).
- ``meta[i]`` (int64): the scalars named ``M_*`` below.

A move inside the engine is a row of ``MOVE_WIDTH`` int32: ``[type, a, b, c, d, e]``; the
meaning of ``a..e`` per type is listed beside each ``MT_*`` code.
"""

from __future__ import annotations

# Board columns.
H, CTRL, CAP, MARK, COLL = 0, 1, 2, 3, 4
BOARD_COLS = 5

# Player columns.
HAND, ELIM, TERR, ELIM_TURN, BOARD_ELIM = 0, 1, 2, 3, 4
PLAYER_COLS = 5

# Phases (wire names in PHASE_NAMES).
PH_PLACEMENT, PH_MOVEMENT, PH_CAPTURE, PH_CHAIN = 0, 1, 2, 3
PH_LINE, PH_TERRITORY, PH_FORCED, PH_GAME_OVER = 4, 5, 6, 7
PHASE_NAMES: tuple[str, ...] = (
    "ring_placement", "movement", "capture", "chain_capture", "line_processing",
    "territory_processing", "forced_elimination", "game_over",
)

# Game status.
ST_ACTIVE, ST_COMPLETED = 0, 1

# Victory reasons (REASON_NAMES gives the wire/record words).
RS_NONE, RS_RING_ELIMINATION, RS_TERRITORY, RS_LPS, RS_TIEBREAK = 0, 1, 2, 3, 4
RS_RESIGNATION, RS_TIMEOUT = 5, 6
REASON_NAMES: tuple[str | None, ...] = (
    None, "ring_elimination", "territory_control", "last_player_standing",
    "tiebreaker_by_player_number", "resignation", "timeout",
)

# Move types.                         a          b         c         d          e
MT_PLACE = 0                        # cell       count
MT_SKIP_PLACEMENT = 1
MT_NO_PLACEMENT = 2
MT_SWAP = 3
MT_MOVE = 4                         # from       to        dir       ray index
MT_CAPTURE = 5                      # from       target    landing   dir        ray index
MT_CONTINUE = 6                     # from       target    landing   dir        ray index
MT_SKIP_CAPTURE = 7
MT_NO_MOVEMENT = 8
MT_RECOVERY = 9                     # from       to        mode      option     stack/segment
MT_SKIP_RECOVERY = 10
MT_PROCESS_LINE = 11                # start      dir       length
MT_LINE_OPTION = 12                 # start      dir       length    seg offset (-1 = all)
MT_NO_LINE = 13
MT_TERRITORY = 14                   # region idx first cell
MT_SKIP_TERRITORY = 15
MT_NO_TERRITORY = 16
MT_ELIMINATE = 17                   # cell       context
MT_FORCED = 18                      # cell
NUM_MOVE_TYPES = 19
MOVE_WIDTH = 6

# Recovery modes and elimination contexts.
RM_LINE, RM_FALLBACK, RM_STRIKE = 0, 1, 2
RECOVERY_MODE_NAMES: tuple[str, ...] = ("line", "fallback", "stack_strike")
EC_LINE, EC_TERRITORY, EC_RECOVERY = 0, 1, 2
CONTEXT_NAMES: tuple[str, ...] = ("line", "territory", "recovery")

# Moves that leave "made no board change this turn" true (rules §4.5).
NO_CHANGE_TYPES: tuple[int, ...] = (
    MT_NO_PLACEMENT, MT_NO_MOVEMENT, MT_NO_LINE, MT_NO_TERRITORY, MT_SKIP_PLACEMENT,
    MT_SKIP_CAPTURE, MT_SKIP_RECOVERY, MT_SKIP_TERRITORY,
)

# meta indices.
M_PLAYER = 0          # current player (1-based)
M_PHASE = 1
M_STATUS = 2
M_WINNER = 3          # 0 = none
M_REASON = 4
M_MUST_MOVE = 5       # cell or -1 (mustMoveFromStackKey)
M_CHAIN = 6           # cell or -1 (chainCapturePosition)
M_ATTACKER = 7        # cell or -1 (the stack that may capture in the capture phase)
M_PENDING_LINE = 8    # 1 while the line reward elimination is pending
M_PENDING_TERR = 9    # 1 while a territory self-elimination is pending (region in region mask)
M_TURN_CHANGED = 10   # 1 once the current player made a board change this turn
M_TURN_RECOVERY = 11  # 1 once the current turn contains a recovery_slide
M_SWAP_ENABLED = 12   # rulesOptions.swapRuleEnabled
M_SWAP_USED = 13
M_P2_MOVED = 14       # player 2 has made a move other than swap_sides
M_LAST_ACTOR = 15     # player of the last recorded move (0 = none)
M_MOVE_COUNT = 16     # moves applied (len(moveHistory))
M_TURN_INDEX = 17     # turns completed
M_LPS_FIRST = 18      # first player of the current LPS round (0 = none)
M_LPS_MASK = 19       # bit p set: p had a real action at the start of its turn this round
M_LPS_CONSEC = 20
M_LPS_EXCL = 21
M_LPS_REQUIRED = 22
M_VICTORY_THRESHOLD = 23
M_TERR_MINIMUM = 24
M_RINGS_PER_PLAYER = 25
M_LINE_LEN = 26
M_NUM_PLAYERS = 27
M_TOTAL_ELIM = 28     # totalRingsEliminated
M_GROW_BORDER = 29    # 1: border markers grow through 8-neighbour steps (not on hexagonal)
META_LEN = 30
