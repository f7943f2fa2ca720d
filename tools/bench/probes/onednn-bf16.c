/*
 * Probe (issue 16: "oneDNN can use AMX (bf16) where the CPU has it: measure it"): one matrix product per
 * shape of the BERT-mini / nanoGPT steps, single-threaded, best of 20 —
 *   oneDNN f32, oneDNN bf16 (the f32 operands reordered to bf16 inside the timing, output f32), OpenBLAS f32 —
 * and the bf16 result's largest error relative to the largest |value| of the f32 one.
 * Not part of the build or the tests. Needs libdnnl-dev and libopenblas-dev:
 *   cc -O2 tools/bench/probes/onednn-bf16.c -I/usr/include/x86_64-linux-gnu/openblas-pthread -ldnnl -l:libopenblas.a -lpthread -lm -o /tmp/onednn-bf16
 *   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /tmp/onednn-bf16
 */
#include <oneapi/dnnl/dnnl.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define C(x) do{dnnl_status_t s=(x); if(s!=dnnl_success){printf("err %d at %s\n",s,#x);exit(1);}}while(0)
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static double run(dnnl_engine_t eng, dnnl_stream_t st, int m,int n,int k, dnnl_data_type_t dt, float*a,float*b,float*c){
  dnnl_memory_desc_t amd,bmd,cmd; dnnl_dims_t ad={m,k},bd={k,n},cd={m,n};
  C(dnnl_memory_desc_init_by_tag(&amd,2,ad,dt,dnnl_ab)); C(dnnl_memory_desc_init_by_tag(&bmd,2,bd,dt,dnnl_ab)); C(dnnl_memory_desc_init_by_tag(&cmd,2,cd,dnnl_f32,dnnl_ab));
  dnnl_matmul_desc_t md; C(dnnl_matmul_desc_init(&md,&amd,&bmd,NULL,&cmd));
  dnnl_primitive_desc_t pd; C(dnnl_primitive_desc_create(&pd,&md,NULL,eng,NULL));
  dnnl_primitive_t p; C(dnnl_primitive_create(&p,pd));
  const char* impl; dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&impl);
  // f32 sources; for bf16 reorder into bf16 memories each call (the conversion cost counts)
  dnnl_memory_desc_t af,bf; C(dnnl_memory_desc_init_by_tag(&af,2,ad,dnnl_f32,dnnl_ab)); C(dnnl_memory_desc_init_by_tag(&bf,2,bd,dnnl_f32,dnnl_ab));
  dnnl_memory_t Af,Bf,A,B,Cm; C(dnnl_memory_create(&Af,&af,eng,a)); C(dnnl_memory_create(&Bf,&bf,eng,b));
  C(dnnl_memory_create(&A,&amd,eng,dt==dnnl_f32?a:DNNL_MEMORY_ALLOCATE)); C(dnnl_memory_create(&B,&bmd,eng,dt==dnnl_f32?b:DNNL_MEMORY_ALLOCATE)); C(dnnl_memory_create(&Cm,&cmd,eng,c));
  dnnl_primitive_t ra=NULL,rb=NULL;
  if(dt!=dnnl_f32){dnnl_primitive_desc_t r1,r2; C(dnnl_reorder_primitive_desc_create(&r1,&af,eng,&amd,eng,NULL)); C(dnnl_primitive_create(&ra,r1)); C(dnnl_reorder_primitive_desc_create(&r2,&bf,eng,&bmd,eng,NULL)); C(dnnl_primitive_create(&rb,r2));}
  dnnl_exec_arg_t args[3]={{DNNL_ARG_SRC,A},{DNNL_ARG_WEIGHTS,B},{DNNL_ARG_DST,Cm}};
  int reps=20; double best=1e9;
  for(int r=0;r<reps+2;r++){double t0=now();
    if(ra){dnnl_exec_arg_t x[2]={{DNNL_ARG_FROM,Af},{DNNL_ARG_TO,A}}; C(dnnl_primitive_execute(ra,st,2,x)); dnnl_exec_arg_t y[2]={{DNNL_ARG_FROM,Bf},{DNNL_ARG_TO,B}}; C(dnnl_primitive_execute(rb,st,2,y));}
    C(dnnl_primitive_execute(p,st,3,args)); C(dnnl_stream_wait(st)); double t=now()-t0; if(r>=2&&t<best)best=t;}
  printf("    impl %s\n", impl);
  return best;
}
int main(){
  dnnl_engine_t eng; C(dnnl_engine_create(&eng,dnnl_cpu,0)); dnnl_stream_t st; C(dnnl_stream_create(&st,eng,dnnl_stream_default_flags));
  int shapes[][3]={{512,512,512},{2048,512,128},{2048,128,512},{301,8000,128},{128,2048,512},{768,128,128}};
  for(int s=0;s<6;s++){int m=shapes[s][0],n=shapes[s][1],k=shapes[s][2];
    float*a=malloc(4L*m*k),*b=malloc(4L*k*n),*c=malloc(4L*m*n),*c2=malloc(4L*m*n),*c3=malloc(4L*m*n);
    for(long i=0;i<(long)m*k;i++)a[i]=rand()/(float)RAND_MAX-0.5f; for(long i=0;i<(long)k*n;i++)b[i]=rand()/(float)RAND_MAX-0.5f;
    double tf=run(eng,st,m,n,k,dnnl_f32,a,b,c), tb=run(eng,st,m,n,k,dnnl_bf16,a,b,c2);
    double to=1e9; for(int r=0;r<22;r++){double t0=now(); cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,m,n,k,1,a,k,b,n,0,c3,n); double t=now()-t0; if(r>=2&&t<to)to=t;}
    printf("  openblas f32 %.1f GF/s\n", 2.0*m*n*k/to/1e9);
    double err=0,mx=0; for(long i=0;i<(long)m*n;i++){double d=c2[i]-c[i]; if(d<0)d=-d; if(d>err)err=d; double v=c[i]<0?-c[i]:c[i]; if(v>mx)mx=v;}
    printf("%dx%dx%d f32 %.1f GF/s  bf16(+reorder) %.1f GF/s  speedup %.2f  maxerr/max %.1e\n",m,n,k,2.0*m*n*k/tf/1e9,2.0*m*n*k/tb/1e9,tf/tb,err/mx);
  }
}
