/** Messages between the grader and its two kernels (grading-kernel.ts); importing this starts no kernel. */

/** The environment variable that selects the role (and keeps kernel-child from starting on its own). */
export const ROLE_ENV = 'LSO_GRADING_ROLE';
/** fd of the student kernel's pipe to the grader. */
export const STUDENT_FD = 3;
/** fd of the checker's synchronous call pipe to the grader. */
export const CALL_FD = 4;

export interface CallRequest {
  id: number;
  name: string;
  /** Encoded arguments, or null to read a variable's value. */
  args: unknown[] | null;
}

export interface CallReply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string };
  /** Tensors the call left allocated in the student's process. */
  leaked?: number;
}

